/**
 * `beepkit gateway device add|list|revoke` (the shipped CLI, one process per
 * command) against a running gateway's embedded broker: `add` writes the
 * mosquitto `$7$` password-file line and a 0600 credentials file whose
 * password logs in; the running gateway reloads the file, so a device added
 * while it runs logs in and a revoked one is disconnected and refused; a
 * second `add` of the same id is E_EXISTS, a bad id E_FORMAT (exit 2). A
 * password file that does not exist yet (gateway.example.yaml's ./passwd before
 * the first `add`) means no devices yet, not a failed start.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { Gateway } from '../src/app/gateway.ts';
import { resolveConfig } from '../src/app/config.ts';
import { verifyPassword } from '../src/broker/index.ts';
import { addDevice, type DeviceCredentials } from '../src/app/devices.ts';
import { tempDir } from './gw-fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/beepkit.js', import.meta.url));
const NOW = (20_602 * 86_400 + 12 * 3600) * 1000;

function beepkit(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('BEEPKIT_GATEWAY_')) delete env[k];
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** A logger that resolves `next(msg)` at the next info line with that message. */
function watchingLogger(): {
  logger: { info(...a: unknown[]): void; warn(): void; error(): void; debug(): void };
  next(msg: string): Promise<Record<string, unknown>>;
} {
  const waiters: { msg: string; resolve(f: Record<string, unknown>): void }[] = [];
  return {
    logger: {
      info: (fields: unknown, msg?: unknown) => {
        for (const w of waiters.filter((x) => x.msg === msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(fields as Record<string, unknown>);
        }
      },
      warn() {},
      error() {},
      debug() {},
    },
    next: (msg) => new Promise((resolve) => waiters.push({ msg, resolve })),
  };
}

async function login(url: string, username: string, password: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, { clientId: username, username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
}

t.test('device add|list|revoke through the CLI, honoured by the running embedded broker', { timeout: 90_000 }, async (t) => {
  const tmp = tempDir('device-cli');
  t.teardown(tmp.remove);
  const passwd = join(tmp.dir, 'passwd');
  const cfgFile = join(tmp.dir, 'gateway.yaml');
  writeFileSync(
    cfgFile,
    stringify({ dataDir: './data', broker: { embedded: { port: 0, passwordFile: './passwd' } }, http: { port: 0 }, log: { level: 'silent' } }),
  );

  const added = await beepkit([
    'gateway',
    'device',
    'add',
    'dev-alpha-01',
    '-c',
    cfgFile,
    '--out',
    join(tmp.dir, 'alpha.json'),
    '--password-out',
    join(tmp.dir, 'alpha.pw'),
  ]);
  t.equal(added.code, 0, added.err);
  const creds = JSON.parse(readFileSync(join(tmp.dir, 'alpha.json'), 'utf8')) as DeviceCredentials;
  t.match(creds, { type: 'beepkit-device-credentials', version: 1, id: 'dev-alpha-01', username: 'dev-alpha-01' });
  t.equal(statSync(join(tmp.dir, 'alpha.json')).mode & 0o777, 0o600, 'credentials file 0600');
  t.equal(readFileSync(join(tmp.dir, 'alpha.pw'), 'utf8').trim(), creds.password, 'the bare password file');
  t.notMatch(added.out, creds.password, 'with --out the password is not printed');
  const line = readFileSync(passwd, 'utf8');
  t.match(line, /^dev-alpha-01:\$7\$101\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*\n$/, 'one mosquitto $7$ line');
  t.equal(statSync(passwd).mode & 0o777, 0o600, 'password file 0600');
  t.ok(verifyPassword(creds.password, line.trim().slice('dev-alpha-01:'.length)), 'the hash is of the password');

  const [again, bad] = await Promise.all([
    beepkit(['gateway', 'device', 'add', 'dev-alpha-01', '--password-file', passwd]),
    beepkit(['gateway', 'device', 'add', 'Dev_Bad', '--password-file', passwd]),
  ]);
  t.same([again.code, JSON.parse(again.err).code], [2, 'E_EXISTS'], 'the same id again');
  t.same([bad.code, JSON.parse(bad.err).code], [2, 'E_FORMAT'], 'an id that is no topic id');

  const w = watchingLogger();
  const gw = new Gateway({
    config: resolveConfig({
      dataDir: join(tmp.dir, 'data'),
      broker: { embedded: { port: 0, passwordFile: passwd } },
      http: { port: 0 },
      ingest: { verifyWorkers: 0 },
    }),
    now: () => NOW,
    logger: w.logger,
    registryPollMs: 50,
  });
  await gw.start();
  t.teardown(() => gw.stop());
  const alpha = await login(gw.brokerUrl, 'dev-alpha-01', creds.password);
  t.ok(alpha.connected, 'the added device logs in');

  const reloaded = w.next('broker: password file reloaded');
  const beta = await beepkit(['gateway', 'device', 'add', 'dev-beta-002', '-c', cfgFile]);
  t.equal(beta.code, 0, beta.err);
  const betaCreds = JSON.parse(beta.out) as DeviceCredentials;
  await reloaded;
  const b = await login(gw.brokerUrl, 'dev-beta-002', betaCreds.password);
  t.ok(b.connected, 'a device added while the gateway runs logs in');
  await b.endAsync();

  const closed = new Promise<void>((resolve) => alpha.once('close', () => resolve()));
  const reloaded2 = w.next('broker: password file reloaded');
  const revoked = await beepkit(['gateway', 'device', 'revoke', 'dev-alpha-01', '--password-file', passwd]);
  t.equal(revoked.code, 0, revoked.err);
  t.match(await reloaded2, { closed: 1 }, 'one session closed');
  await closed;
  await t.rejects(login(gw.brokerUrl, 'dev-alpha-01', creds.password), 'the revoked device is refused');
  const list = await beepkit(['gateway', 'device', 'list', '-c', cfgFile]);
  t.same(JSON.parse(list.out), ['dev-beta-002'], 'list: usernames only');
  t.notMatch(list.out, '$7$', 'never the hashes');
});

t.test('a password file that does not exist yet: the gateway starts, and the first device added logs in', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('device-nofile');
  t.teardown(tmp.remove);
  const passwd = join(tmp.dir, 'passwd');
  const w = watchingLogger();
  const gw = new Gateway({
    config: resolveConfig({
      dataDir: join(tmp.dir, 'data'),
      broker: { embedded: { port: 0, passwordFile: passwd } },
      http: { port: 0 },
      ingest: { verifyWorkers: 0 },
    }),
    now: () => NOW,
    logger: w.logger,
    registryPollMs: 50,
  });
  await gw.start();
  t.teardown(() => gw.stop());
  const reloaded = w.next('broker: password file reloaded');
  const creds = addDevice(passwd, 'dev-first-01');
  await reloaded;
  const c = await login(gw.brokerUrl, 'dev-first-01', creds.password);
  t.ok(c.connected, 'the first device logs in once its file exists');
  await c.endAsync();
});
