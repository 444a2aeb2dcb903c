/**
 * Replies of the CA topic as SPEC.md states them: an ErrorReply to an envelope
 * that fails (bad magic, version, type, too short) echoes the request's
 * correlation id whenever the 12-byte header is there (§5.3); a message of
 * another topic's type is E_TYPE (§5.2); every signed in-window CaRequest,
 * refused or granted, counts against the pseudonym-day budget (§9.3); one
 * venue key cannot be registered under two venue ids (registry and `beepkit
 * gateway venue add --key-file`).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toHex } from '@beepkit/protocol';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { caRequestSigningBytes, decodeMessage, encodeMessage, type CaRequestBody } from '@beepkit/protocol/wire';
import { CertificateAuthority, loadOrCreateKeys, VenueRegistry } from '../src/ca/index.ts';
import { handleCaRequest } from '../src/app/handlers.ts';
import { correlationOf } from '../src/ingest/index.ts';
import { DAY, bytesFrom, prng, tempDir } from './gw-fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/beepkit.js', import.meta.url));

const TODAY = 20_602;
const NOW = (TODAY * DAY + 12 * 3600) * 1000;
const CID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

function setup(t: { teardown(fn: () => unknown): void }): { ca: CertificateAuthority; registry: VenueRegistry } {
  const tmp = tempDir('ca-replies');
  t.teardown(tmp.remove);
  const keys = loadOrCreateKeys(tmp.dir);
  const registry = new VenueRegistry(`${tmp.dir}/venues.json`);
  const ca = new CertificateAuthority({ ca: keys.ca, solverPublicKey: keys.solverPublicKey, solverKeyId: keys.solverKeyId, venues: registry, now: () => NOW });
  return { ca, registry };
}

function errorOf(reply: Uint8Array): { code: string; cid: number[] } {
  const m = decodeMessage(reply);
  if (m.type !== 'error') throw new Error(`expected an ErrorReply, got ${m.type}`);
  return { code: m.code, cid: [...m.correlationId] };
}

t.test('envelope errors echo the correlation id when bytes 4..12 are there', async (t) => {
  const { ca } = setup(t);
  const good = encodeMessage({ type: 'upload-batch', correlationId: CID, batch: Uint8Array.of(9) });
  const patch = (i: number, v: number): Uint8Array => {
    const b = good.slice();
    b[i] = v;
    return b;
  };
  const cases: [string, Uint8Array, string, number[]][] = [
    ['bad magic', patch(0, 0x43), 'E_FORMAT', [...CID]],
    ['version 2', patch(2, 2), 'E_VERSION', [...CID]],
    ['unknown type 0x7e', patch(3, 0x7e), 'E_TYPE', [...CID]],
    ['header only, body missing', good.subarray(0, 12), 'E_TRUNCATED', [...CID]],
    ["another topic's type (upload-batch on up/ca)", good, 'E_TYPE', [...CID]],
    ['11 bytes: no correlation id', good.subarray(0, 11), 'E_TRUNCATED', [0, 0, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [name, payload, code, cid] of cases) {
    const r = handleCaRequest(ca, payload);
    t.same(errorOf(r.reply), { code, cid }, name);
  }
  t.same([...correlationOf(Uint8Array.of(0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1))], [8, 7, 6, 5, 4, 3, 2, 1], 'correlationOf reads bytes 4..12 of any 12 bytes');
});

t.test('refused signed requests use up the pseudonym-day budget (5), then E_RATE', async (t) => {
  const { ca } = setup(t);
  const s = new Ed25519Signer(bytesFrom(prng(25), 32));
  const body: CaRequestBody = { gnss: null, venues: [], day: TODAY, pseudonymPublicKey: s.publicKey, extra: new Uint8Array(0) };
  const req = encodeMessage({ type: 'ca-request', correlationId: CID, ...body, signature: s.sign(caRequestSigningBytes(body)) });
  const codes = Array.from({ length: 6 }, () => handleCaRequest(ca, req).code);
  t.same(codes, ['E_TRUST_GNSS', 'E_TRUST_GNSS', 'E_TRUST_GNSS', 'E_TRUST_GNSS', 'E_TRUST_GNSS', 'E_RATE']);
  const unsigned = encodeMessage({
    type: 'ca-request',
    correlationId: CID,
    ...body,
    day: TODAY,
    pseudonymPublicKey: bytesFrom(prng(26), 32),
    signature: new Uint8Array(64),
  });
  t.same(
    Array.from({ length: 7 }, () => handleCaRequest(ca, unsigned).code),
    Array(7).fill('E_SIGNATURE'),
    'a bad signature does not count',
  );
});

t.test('one venue key, one venue id', async (t) => {
  const { registry } = setup(t);
  const key = bytesFrom(prng(14), 32);
  registry.add({ id: 'a1b2c3d4e5f6', name: 'Cafe', region: ['S', 'C'], lat: 1, lon: 2, radiusM: 10, key });
  t.throws(
    () => registry.add({ id: 'a1b2c3d4e5f7', name: 'Cafe again', region: ['S', 'C'], lat: 1, lon: 2, radiusM: 10, key }),
    { code: 'E_EXISTS' },
    'same key under another id',
  );
  t.equal(registry.list().length, 1, 'nothing added');
  t.ok(
    registry.add({ id: 'a1b2c3d4e5f7', name: 'Other', region: ['S', 'C'], lat: 1, lon: 2, radiusM: 10, key: bytesFrom(prng(15), 32) }).venue,
    'another key is fine',
  );
});

t.test('beepkit gateway venue add --key-file refuses a key registered under another id (E_EXISTS, exit 2)', async (t) => {
  const tmp = tempDir('venue-key-cli');
  t.teardown(tmp.remove);
  const key = bytesFrom(prng(16), 32);
  new VenueRegistry(`${tmp.dir}/venues.json`).add({
    id: 'a1b2c3d4e5f6',
    name: 'Cafe',
    region: ['scotland', 'edinburgh'],
    lat: 55.95,
    lon: -3.19,
    radiusM: 30,
    key,
  });
  writeFileSync(`${tmp.dir}/venue.hex`, toHex(key) + '\n', { mode: 0o600 });
  const args = [
    'gateway',
    'venue',
    'add',
    '-d',
    tmp.dir,
    '--name',
    'Cafe twin',
    '--region',
    'scotland/edinburgh',
    '--lat',
    '55.95',
    '--lon',
    '-3.19',
    '--id',
    'a1b2c3d4e5f7',
    '--key-file',
    `${tmp.dir}/venue.hex`,
  ];
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const c = execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (_e, _out, err) => resolve({ code: c.exitCode, err }));
  });
  t.equal(r.code, 2, 'exit 2');
  t.match(r.err, /"code":"E_EXISTS"/, `coded refusal on stderr: ${r.err.trim()}`);
  t.same(
    new VenueRegistry(`${tmp.dir}/venues.json`)
      .load()
      .list()
      .map((v) => v.id),
    ['a1b2c3d4e5f6'],
    'the twin was not added',
  );
});
