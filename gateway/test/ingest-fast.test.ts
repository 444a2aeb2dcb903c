/**
 * The ingest hot path: protocol/cert `verifyCertificate` with its cached CA key
 * id and KeyObject (same accept/reject and error code on every call, first or
 * cached, with two CAs taking turns: valid, tampered, foreign, expired,
 * wrong-day, wrong-role and BOM-region certificates), recordHashes vs
 * recordHash, the cached `ed25519KeyObject` vs the SPKI import, sha256.ts and
 * `batchKeys` vs node:crypto, `recordHash` and `claimKey`.
 */
import t from 'tap';
import fc from 'fast-check';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { toHex } from '@beepkit/protocol';
import { Ed25519Signer, ed25519KeyObject } from '@beepkit/protocol/crypto';
import { decodeCertificate, issueCertificate, verifyCertificate, type Certificate } from '@beepkit/protocol/cert';
import { intervalAt, prefixIs, recordHash } from '@beepkit/protocol/tracecode';
import { CLAIM_KEY_BYTES, Scratch, batchKeys, claimKey, recordHashes } from '../src/ingest/fast.ts';
import { sha256Into } from '../src/ingest/sha256.ts';
import { DAY, bytesFrom, prng } from './gw-fixtures.ts';

const rand = prng(4242);
const ca = new Ed25519Signer(bytesFrom(rand, 32));
const otherCa = new Ed25519Signer(bytesFrom(rand, 32));
const D = 20_602;

function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? 'non-beepkit';
  }
}

function cert(
  o: { signer?: Ed25519Signer; day?: number; role?: 'device' | 'diagnostician'; region?: string; notBefore?: number; notAfter?: number } = {},
): Certificate {
  const day = o.day ?? D;
  return issueCertificate(o.signer ?? ca, {
    role: o.role ?? 'device',
    serial: 7,
    day,
    notBefore: o.notBefore ?? day * DAY,
    notAfter: o.notAfter ?? (day + 1) * DAY,
    subject: bytesFrom(rand, 32),
    solverKeyId: bytesFrom(rand, 8),
    region: o.region ?? 'CA/Alameda/Berkeley',
  });
}

t.test('verifyCertificate with its cached CA key: same codes on every call, two CAs taking turns', async (t) => {
  const now = D * DAY + 3600;
  const tamper = (c: Certificate, at: number): Certificate => {
    const b = c.bytes.slice();
    b[at] ^= 1;
    try {
      return decodeCertificate(b);
    } catch {
      return { ...c, bytes: b };
    }
  };
  const cases: [string, Certificate, number, number, string][] = [
    ['valid', cert(), now, D, 'ok'],
    ['foreign CA', cert({ signer: otherCa }), now, D, 'E_CERT'],
    ['expired', cert({ notAfter: D * DAY + 10 }), now, D, 'E_EXPIRED'],
    ['not yet valid', cert({ notBefore: now + 5 }), now, D, 'E_EXPIRED'],
    ['wrong day', cert({ day: D + 1, notBefore: D * DAY, notAfter: (D + 2) * DAY }), now, D, 'E_CERT'],
    ['diagnostician', cert({ role: 'diagnostician' }), now, D, 'E_CERT'],
    ['BOM region', decodeCertificate(cert({ region: '\uFEFFCA/Alameda' }).bytes), now, D, 'E_CERT'],
    ['unicode region', cert({ region: 'FR/Île-de-France/Café' }), now, D, 'ok'],
    ['tampered subject', tamper(cert(), 40), now, D, 'E_SIGNATURE'],
    ['tampered signature', tamper(cert(), 120), now, D, 'E_SIGNATURE'],
  ];
  const other = cert({ signer: otherCa });
  for (let round = 0; round < 3; round++) {
    for (const [name, c, n, day, code] of cases) {
      t.equal(
        outcome(() => verifyCertificate(c, ca.publicKey, { now: n, day, role: 'device' })),
        code,
        `${name} (round ${round})`,
      );
      t.equal(
        outcome(() => verifyCertificate(other, otherCa.publicKey, { now, day: D, role: 'device' })),
        'ok',
        'the other CA in between',
      );
    }
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 160 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const c = cert();
      const b = c.bytes.slice();
      b[at % b.length] ^= x;
      let d: Certificate;
      try {
        d = decodeCertificate(b);
      } catch {
        return true;
      }
      return outcome(() => verifyCertificate(d, ca.publicKey, { now, day: D, role: 'device' })) !== 'ok'; // any changed byte is refused
    }),
    { seed: 17, numRuns: 200 },
  );
});

t.test('recordHashes equals recordHash; ed25519KeyObject equals the SPKI import and is cached', async (t) => {
  const records = Array.from({ length: 30 }, (_, i) => bytesFrom(rand, 40 + i * 7));
  const scratch = new Scratch();
  t.same(
    recordHashes(records, scratch).map(toHex),
    records.map((r) => toHex(recordHash(r))),
  );
  t.same(recordHashes([bytesFrom(rand, 9000)], scratch).map(toHex).length, 1, 'scratch grows');
  const s = new Ed25519Signer(bytesFrom(rand, 32));
  const k = ed25519KeyObject(s.publicKey);
  t.equal(ed25519KeyObject(Uint8Array.from(s.publicKey)), k, 'the same KeyObject from the cache');
  const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), s.publicKey]), format: 'der', type: 'spki' });
  t.ok(k.equals(spki), 'same key');
  const msg = Buffer.from('hello');
  t.ok(verify(null, msg, k, Buffer.from(s.sign(msg))), 'verifies a signature');
  t.throws(() => ed25519KeyObject(new Uint8Array(31)), { code: 'E_KEY' });
  t.notOk(verify(null, Buffer.from('hellO'), k, Buffer.from(s.sign(msg))), 'refuses another message');
});

t.test('sha256Into equals node:crypto for 0–300-byte inputs; batchKeys equals recordHash and claimKey', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 32 }), (tag, msg, len) => {
      const out = new Uint8Array(40).fill(0xee);
      sha256Into(tag, msg, out, 3, len);
      const want = createHash('sha256').update(tag).update(msg).digest();
      return toHex(out.subarray(3, 3 + len)) === toHex(want.subarray(0, len)) && out[2] === 0xee && out[3 + len] === 0xee;
    }),
    { seed: 23, numRuns: 600 },
  );
  // a range of the message (records hashed in place in a batch's bytes)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (tag, msg, x, y) => {
      const from = msg.length ? x % (msg.length + 1) : 0;
      const to = from + (msg.length ? y % (msg.length - from + 1) : 0);
      const out = new Uint8Array(32);
      sha256Into(tag, msg, out, 0, 32, from, to);
      return toHex(out) === createHash('sha256').update(tag).update(msg.subarray(from, to)).digest('hex');
    }),
    { seed: 24, numRuns: 600 },
  );
  for (let n = 0; n <= 200; n++) {
    const msg = bytesFrom(rand, n);
    const out = new Uint8Array(32);
    sha256Into(new Uint8Array(0), msg, out, 0);
    if (toHex(out) !== createHash('sha256').update(msg).digest('hex')) t.fail(`length ${n} (every padding case: 55, 56, 63, 64, 119, 120)`);
  }
  for (const [count, day] of [
    [1, 0],
    [28, 20_602],
    [48, 0xffffffff],
    [300, 20_602],
  ]) {
    const prefix = bytesFrom(rand, 32);
    const intervals = Array.from({ length: count }, (_, i) => (i * 7919) % 65_536);
    const records = intervals.map((iv) => {
      const r = bytesFrom(rand, 89);
      r[33] = iv >>> 8;
      r[34] = iv;
      return r;
    });
    // the records laid out in a larger buffer, as in a batch, from offset 7
    const bytes = new Uint8Array(7 + count * 89 + 64).fill(0xee);
    records.forEach((r, i) => bytes.set(r, 7 + i * 89));
    const keys = batchKeys(bytes, 7, count, prefix, day);
    const k = { hashes: keys.slice(0, count), claims: keys.slice(count) };
    t.equal(keys.length, 2 * count);
    t.ok(
      records.every((r, i) => intervalAt(bytes, 7 + i * 89) === intervals[i] && prefixIs(r, 0, r.subarray(1, 33)) && !prefixIs(r, 0, prefix)),
      'intervalAt, prefixIs',
    );
    t.same(
      k.hashes.map(toHex),
      records.map((r) => toHex(recordHash(r))),
      `${count} record hashes`,
    );
    t.same(
      k.claims.map(toHex),
      intervals.map((i) => toHex(claimKey(prefix, day, i))),
      `${count} claim keys (day ${day})`,
    );
    t.ok(k.claims.every((c) => c.length === CLAIM_KEY_BYTES) && k.hashes.every((h) => h.length === 32));
  }
});
