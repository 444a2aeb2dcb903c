import t from 'tap';
import { findTool, missing } from '../../scripts/tools.ts';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AclChecker,
  DEFAULT_DEVICE_PATTERNS,
  hashPassword,
  hashPasswordScrypt,
  renderMosquittoAcl,
  renderPasswordFile,
  topicMatches,
  unshare,
  verifyPassword,
} from '../src/broker/index.ts';
import { tempDir } from './broker-helpers.ts';

t.test('password hashes', async (t) => {
  const h = hashPassword('secret', { salt: new Uint8Array(12) });
  t.match(h, /^\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.ok(verifyPassword('secret', h));
  t.notOk(verifyPassword('Secret', h));
  const s = hashPasswordScrypt('pw', { N: 1024, salt: new Uint8Array(16) });
  t.ok(verifyPassword('pw', s));
  t.notOk(verifyPassword('pw2', s));
  t.notOk(verifyPassword('pw', 'plain:pw'), 'unknown formats never verify');
  t.notOk(verifyPassword('pw', '$7$x$y$z'));
  t.throws(() => renderPasswordFile({ dev1: s }), { code: 'E_CONFIG' }, 'mosquitto cannot read scrypt');
  t.throws(() => renderPasswordFile({ 'a/b': h }), { code: 'E_CONFIG' });
});

t.test('mosquitto_passwd hashes verify here', { skip: missing('mosquitto_passwd') }, async (t) => {
  const tmp = tempDir('passwd');
  t.teardown(tmp.remove);
  const file = join(tmp.dir, 'pw');
  const r = spawnSync(findTool('mosquitto_passwd')!, ['-b', '-c', file, 'dev9', 'hunter2']);
  t.equal(r.status, 0, 'mosquitto_passwd ran');
  const hash = readFileSync(file, 'utf8').trim().split(':')[1];
  t.ok(verifyPassword('hunter2', hash));
  t.notOk(verifyPassword('hunter3', hash));
});

t.test('topic matching', async (t) => {
  t.ok(topicMatches('a/+/c', 'a/b/c'));
  t.ok(topicMatches('a/#', 'a'));
  t.ok(topicMatches('a/#', 'a/b/c'));
  t.notOk(topicMatches('a/+', 'a/b/c'));
  t.notOk(topicMatches('#', '$SYS/x'));
  t.notOk(topicMatches('a/b', 'a/b/c'));
  t.same(unshare('$share/g/a/#'), { group: 'g', filter: 'a/#' });
  t.same(unshare('a/#'), { filter: 'a/#' });
});

t.test('ACL checker and mosquitto rendering', async (t) => {
  const acl = new AclChecker({ superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS });
  t.ok(acl.canPublish('dev1', 'c', 'beepkit/v1/dev/dev1/up/batch'));
  t.notOk(acl.canPublish('dev1', 'c', 'beepkit/v1/dev/dev2/up/batch'));
  t.notOk(acl.canPublish('dev1', 'c', 'beepkit/v1/dev/dev1/reply'));
  t.ok(acl.canPublish('dev1', 'c', 'beepkit/v1/carer/dev1/alert'), "a carer agent publishes its wearables' alerts on its own topic");
  t.notOk(acl.canPublish('dev1', 'c', 'beepkit/v1/carer/dev2/alert'), "never on another's");
  t.notOk(acl.canRead('dev1', 'c', 'beepkit/v1/carer/dev2/alert'));
  t.ok(acl.canRead('dev1', 'c', 'beepkit/v1/dev/dev1/reply'));
  t.notOk(acl.canRead('dev1', 'c', 'beepkit/v1/dev/dev2/reply'));
  t.notOk(acl.canRead('+', 'c', 'beepkit/v1/dev/+/reply'), 'wildcard usernames are never substituted');
  t.notOk(acl.canPublish(undefined, 'c', 'beepkit/v1/dev/dev1/up/batch'));
  t.ok(acl.canPublish('gateway', 'c', 'anything/at/all'));
  const text = renderMosquittoAcl({ superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS });
  t.match(text, /user gateway\ntopic readwrite #/);
  t.match(text, /pattern write beepkit\/v1\/dev\/%u\/up\/\+/);
  t.throws(() => renderMosquittoAcl({ superusers: [], patterns: [{ access: 'read', topic: 'a b' }] }), { code: 'E_CONFIG' });
});
