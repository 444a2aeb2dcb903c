/**
 * The C reference's live path: firmware-stubs/c/examples/publish.c (the C
 * library + libmosquitto) seals a TraceCode, signs a batch, publishes it to a
 * running gateway (embedded broker, device credentials from `device add`),
 * and verifies the Receipt in C (entry hash, STH signature and key id, RFC
 * 9162 inclusion proof). The gateway runs on the vectors' clock with the
 * vectors' CA and solver keys, so the vectors' certificate is valid there.
 * Then: the same batch again gets its original receipt (which does not verify
 * against another gateway key); another record for
 * the same interval is refused E_CONFLICT (protocol/SPEC.md §7.4).
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missing } from '../../scripts/tools.ts';
import { toHex } from '@beepkit/protocol';
import { Gateway, addDevice, resolveConfig } from '@beepkit/gateway/app';
import { NOW_MS, fixed } from '@beepkit/protocol/vectors';

const C_DIR = fileURLToPath(new URL('../c/', import.meta.url));
const VEC = fileURLToPath(new URL('../../protocol/vectors/', import.meta.url));
type V = { inputs: Record<string, unknown> };
const vec = (name: string): V => JSON.parse(readFileSync(`${VEC}${name}.json`, 'utf8')) as V;

function libsMissing(): false | string {
  const m = missing('gcc') || missing('pkg-config');
  if (m) return m;
  try {
    execFileSync('pkg-config', ['--exists', 'libsodium', 'libmosquitto']);
    return false;
  } catch {
    return 'libsodium-dev or libmosquitto-dev not installed (apt-get install -y libsodium-dev libmosquitto-dev)';
  }
}
const skip = libsMissing();
if (skip && process.env.CI === 'true') throw new Error(skip);

function run(bin: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => resolve({ code, out: out.trim() }));
  });
}

t.test('a C device publishes a batch through libmosquitto and verifies its receipt', { skip, timeout: 60_000 }, async (t) => {
  const dir = t.testdir();
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libsodium', 'libmosquitto'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  const bin = join(dir, 'bk-publish');
  execFileSync('gcc', [
    '-std=c99',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-pedantic',
    '-D_POSIX_C_SOURCE=200809L',
    '-O2',
    '-o',
    bin,
    join(C_DIR, 'examples/publish.c'),
    join(C_DIR, 'beepkit.c'),
    join(C_DIR, 'aes128.c'),
    ...flags,
  ]);

  const data = join(dir, 'gw');
  mkdirSync(join(data, 'keys'), { recursive: true, mode: 0o700 });
  writeFileSync(join(data, 'keys', 'ca.key'), fixed('ca'), { mode: 0o600 });
  writeFileSync(join(data, 'keys', 'solver.key'), fixed('solver'), { mode: 0o600 });
  const passwd = join(dir, 'passwd');
  const creds = addDevice(passwd, 'dev-c-ref-01');
  const gw = new Gateway({
    config: resolveConfig({
      dataDir: data,
      broker: { embedded: { port: 0, passwordFile: passwd } },
      http: { port: 0 },
      log: { level: 'silent' },
      ingest: { verifyWorkers: 0 },
    }),
    now: () => NOW_MS,
  });
  await gw.start();
  t.teardown(() => gw.stop());
  const port = new URL(gw.brokerUrl).port;

  const keys = vec('key-schedule').inputs;
  const day = (keys.days as { day: number }[])[0].day;
  const tc = vec('tracecode').inputs;
  const args = (salt: string): string[] => [
    '127.0.0.1',
    port,
    creds.id,
    creds.password,
    toHex(gw.keys.gateway.publicKey),
    keys.master as string,
    String(keys.fromDay),
    String(day),
    vec('batch').inputs.certificate as string,
    toHex(gw.keys.solverPublicKey),
    tc.geodata as string,
    String(tc.interval),
    salt,
  ];
  t.equal(toHex(gw.keys.solverPublicKey), tc.solverPublicKey, "the gateway runs with the vectors' solver key");
  const first = await run(bin, args(toHex(fixed('salt-live', 8))));
  t.equal(first.code, 0, `receipt verified in C: ${first.out}`);
  t.match(first.out, /^receipt ok leaf=0 tree=1$/);
  const again = await run(bin, args(toHex(fixed('salt-live', 8))));
  t.same([again.code, again.out], [0, 'receipt ok leaf=0 tree=1'], 'the same batch again: its original receipt');
  const forged = args(toHex(fixed('salt-live', 8)));
  forged[4] = toHex(fixed('not-the-gateway'));
  t.equal((await run(bin, forged)).code, 5, 'checked against another gateway key, the receipt does not verify (exit 5)');
  const moved = await run(bin, args(toHex(fixed('salt-other', 8))));
  t.same([moved.code, moved.out], [3, 'error E_CONFLICT'], 'another record for the same interval: E_CONFLICT');
  t.equal((await gw.ledger.sth('tracing'))!.treeSize, 1, 'one entry on the ledger');
});
