import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { readFileSync } from 'node:fs';
import { generateTestPki, MosquittoRunner } from '../src/broker/index.ts';
import { client, collect, opener, CREDENTIALS, PASSWORDS, POLICY, tempDir } from './broker-helpers.ts';

t.test('real mosquitto: credentials, ACL, shared subscriptions, TLS', { skip: missing('mosquitto') || missing('openssl') }, async (t) => {
  const tmp = tempDir('mosq');
  t.teardown(tmp.remove);
  const pki = await generateTestPki(tmp.dir);
  const broker = new MosquittoRunner({ dir: tmp.dir, port: 0, credentials: CREDENTIALS, acl: POLICY, tls: { port: 0, ...pki } });
  await broker.start();
  t.teardown(() => broker.stop());
  const { open, stopAll } = opener(broker.url);
  t.teardown(stopAll);

  t.test('wrong password and unknown user are refused', async (t) => {
    await t.rejects(client(broker.url, 'dev1', 'bad-1', { password: 'nope' }).start(), { code: 'E_AUTH' });
    await t.rejects(client(broker.url, 'mallory', 'bad-2', { password: 'x' }).start(), { code: 'E_AUTH' });
    await t.rejects(client(broker.url, 'dev1', 'bad-3', { password: undefined }).start(), { code: 'E_AUTH' });
  });

  t.test('a device cannot publish to another device topic; the gateway sees all', async (t) => {
    const gw = await open('gateway', 'gw-acl');
    const seen = collect(gw);
    t.equal(await gw.subscribe('#', 1), 1, 'gateway may subscribe to everything');
    const dev1 = await open('dev1', 'dev1-acl');
    await dev1.publish('beepkit/v1/dev/dev2/up/batch', 'forged', { qos: 1 }); // mosquitto PUBACKs and drops
    await dev1.publish('beepkit/v1/dev/dev1/up/batch', 'control', { qos: 1 });
    await seen.waitFor((g) => g.some((m) => m.payload === 'control'));
    t.same(
      seen.got.map((m) => m.payload),
      ['control'],
      'the forged message never arrived',
    );
  });

  t.test('a device never receives another device reply topic', async (t) => {
    const dev1 = await open('dev1', 'dev1-sub');
    const inbox = collect(dev1);
    // mosquitto 2.0 grants SUBSCRIBE and checks read permission per message.
    await dev1.subscribe('beepkit/v1/dev/dev2/reply', 1);
    await dev1.subscribe('beepkit/v1/dev/+/reply', 1);
    const gw = await open('gateway', 'gw-sub');
    await gw.publish('beepkit/v1/dev/dev2/reply', 'not-yours');
    await gw.publish('beepkit/v1/dev/dev1/reply', 'yours');
    await inbox.waitFor((g) => g.length >= 1);
    t.same(inbox.got, [{ topic: 'beepkit/v1/dev/dev1/reply', payload: 'yours' }]);
  });

  t.test('shared subscription: each message to exactly one gateway', async (t) => {
    const N = 3000;
    const a = await open('gateway', 'gw-share-a');
    const b = await open('gateway', 'gw-share-b');
    const ca = collect(a);
    const cb = collect(b);
    await a.subscribe('$share/gateway/beepkit/v1/dev/+/up/+', 1);
    await b.subscribe('$share/gateway/beepkit/v1/dev/+/up/+', 1);
    const dev = await open('dev2', 'dev2-share');
    await Promise.all(Array.from({ length: N }, (_, i) => dev.publish('beepkit/v1/dev/dev2/up/batch', String(i))));
    const total = (): boolean => ca.got.length + cb.got.length >= N;
    await Promise.race([ca.waitFor(total), cb.waitFor(total)]); // whichever gets the last one
    const all = [...ca.got, ...cb.got].map((m) => Number(m.payload));
    t.equal(all.length, N, 'no duplicates');
    t.equal(new Set(all).size, N, 'no loss');
    t.ok(ca.got.length > 0 && cb.got.length > 0, `both members got work (${ca.got.length}/${cb.got.length})`);
  });

  t.test('mqtts with the generated CA', async (t) => {
    const url = broker.tlsUrl;
    if (!url) throw new Error('no TLS listener');
    const ca = readFileSync(pki.caFile);
    const gw = await open('gateway', 'gw-tls', { url, ca });
    const seen = collect(gw);
    await gw.subscribe('beepkit/v1/dev/+/up/+');
    const dev = await open('dev1', 'dev1-tls', { url, ca });
    await dev.publish('beepkit/v1/dev/dev1/up/batch', 'over tls');
    await seen.waitFor((g) => g.length === 1);
    t.equal(seen.got[0].payload, 'over tls');
    await t.rejects(client(url, 'dev1', 'dev1-notrust', { startTimeoutMs: 3000 }).start(), 'an unknown CA is not trusted');
    t.ok(PASSWORDS.dev1);
  });
});
