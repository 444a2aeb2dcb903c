/** `beepkit agent …`: help, a bad config exits 2 naming the field, keys, carer stub. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const beepkit = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(root, 'bin', 'beepkit.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });

t.test('help lists the subcommands', async (t) => {
  const r = beepkit(['agent', '--help']);
  t.equal(r.status, 0, r.stderr);
  for (const c of ['run', 'status', 'calibrate', 'keys', 'consent', 'carer']) t.match(r.stdout, c);
});

t.test('run with a bad config: exit 2, the field named', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'bad.yaml'), `dataDir: ${dir}\nhttp: { port: 99999 }\n`);
  const r = beepkit(['agent', 'run', '--config', join(dir, 'bad.yaml')]);
  t.equal(r.status, 2);
  const err = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { code: string; message: string };
  t.equal(err.code, 'E_CONFIG');
  t.match(err.message, 'http.port');
});

t.test('keys rotate and renounce on a passphrase keystore; carer commands are registered', async (t) => {
  const dir = t.testdir();
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, `dataDir: ${dir}\n`);
  const env = { BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: 'test passphrase' };
  const rot = beepkit(['agent', 'keys', 'rotate', '--config', cfg], env);
  t.equal(rot.status, 0, rot.stderr);
  t.equal(JSON.parse(rot.stdout).rotated, true);
  const ren = beepkit(['agent', 'keys', 'renounce', '--day', '20000', '--config', cfg], env);
  t.equal(ren.status, 0, ren.stderr);
  t.same(JSON.parse(ren.stdout), { renounced: 20000 });
  const wrong = beepkit(['agent', 'keys', 'rotate', '--config', cfg], { BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: 'wrong' });
  t.equal(wrong.status, 2);
  t.match(wrong.stderr, 'E_DECRYPT');
  const carer = beepkit(['agent', 'carer', 'list', '--help']);
  t.equal(carer.status, 0);
  t.match(carer.stdout, '--store');
});
