import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/bytes.ts';
import { isBeepkitError } from '../src/errors.ts';
import {
  CERT_FIXED_LEN,
  decodeCertificate,
  encodeCertificate,
  issueCertificate,
  keyId,
  verifyCertificate,
  type CertFields,
  type RoleName,
} from '../src/cert/index.ts';
import { Ed25519Signer, ed25519PublicKey, ed25519Verify } from '../src/crypto/index.ts';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { fuzz } from './crypto-fuzz.ts';

const v = JSON.parse(readFileSync(new URL('./vectors/cert.json', import.meta.url), 'utf8'));
const caSeed = fromHex(v.caSeed);
const caPub = fromHex(v.caPub);
const fieldsOf = (f: typeof v.fields): CertFields => ({ ...f, subject: fromHex(f.subject), solverKeyId: fromHex(f.solverKeyId) });

const fieldsArb: fc.Arbitrary<CertFields> = fc
  .record({
    role: fc.constantFrom<RoleName>('device', 'diagnostician', 'beacon'),
    serial: fc.maxSafeNat(),
    day: fc.integer({ min: 0, max: 0xffffffff }),
    notBefore: fc.integer({ min: 0, max: 0x7fffffff }),
    span: fc.integer({ min: 0, max: 0x7fffffff }),
    subject: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    solverKeyId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    region: fc.string({ maxLength: 60, unit: 'grapheme' }),
  })
  .map(({ span, ...r }) => ({ ...r, notAfter: r.notBefore + span }));

const norm = (c: object) =>
  JSON.stringify(
    Object.entries(c)
      .map(([k, x]) => [k, x instanceof Uint8Array ? toHex(x) : x])
      .sort(),
  );

t.test('vector: issue reproduces the frozen certificate, verify accepts it', async (t) => {
  const f = fieldsOf(v.fields);
  const c = issueCertificate(caSeed, f);
  t.equal(toHex(c.bytes), v.certificate);
  t.equal(toHex(keyId(caPub)), v.caKeyId);
  t.equal(c.bytes.length, CERT_FIXED_LEN + f.region.length, 'compact: fixed part + region');
  const d = verifyCertificate(fromHex(v.certificate), caPub, { now: f.notBefore + 10, day: f.day, role: 'device', subject: f.subject });
  t.equal(d.region, 'CA/Alameda/Berkeley');
  t.equal(d.serial, 4242);
});

t.test('verification errors', async (t) => {
  const f = fieldsOf(v.fields);
  const bytes = fromHex(v.certificate);
  t.throws(() => verifyCertificate(bytes, caPub, { now: f.notAfter + 1 }), { code: 'E_EXPIRED' });
  t.throws(() => verifyCertificate(bytes, caPub, { now: f.notBefore - 1 }), { code: 'E_EXPIRED' });
  t.throws(() => verifyCertificate(bytes, caPub, { now: f.notBefore, day: f.day + 1 }), { code: 'E_CERT' });
  t.throws(() => verifyCertificate(bytes, caPub, { now: f.notBefore, role: 'diagnostician' }), { code: 'E_CERT' });
  t.throws(() => verifyCertificate(bytes, caPub, { now: f.notBefore, subject: new Uint8Array(32) }), { code: 'E_CERT' });
  t.throws(() => verifyCertificate(bytes, ed25519PublicKey(new Uint8Array(32).fill(2)), { now: f.notBefore }), { code: 'E_CERT' }, 'other CA');
  const forged = bytes.slice();
  forged[3] ^= 1; // serial
  t.throws(() => verifyCertificate(forged, caPub, { now: f.notBefore }), { code: 'E_SIGNATURE' });
  const c = decodeCertificate(bytes);
  t.throws(() => verifyCertificate({ ...c, region: 'XX' }, caPub, { now: f.notBefore }), { code: 'E_CERT' }, 'decoded fields must match the signed bytes');
});

/** An Ed25519 signature of `msg` by `seed` made with the nonce `r`, not RFC 8032's: just as valid, other bytes. */
function signWithNonce(seed: Uint8Array, msg: Uint8Array, r: bigint): Uint8Array {
  const Fn = ed25519.Point.Fn;
  const ext = ed25519.utils.getExtendedPublicKey(seed);
  const R = ed25519.Point.BASE.multiply(Fn.create(r)).toBytes();
  const h = sha512(Uint8Array.from([...R, ...ext.pointBytes, ...msg]));
  let k = 0n;
  for (let i = h.length - 1; i >= 0; i--) k = (k << 8n) | BigInt(h[i]);
  return Uint8Array.from([...R, ...Fn.toBytes(Fn.add(Fn.create(r), Fn.mul(Fn.create(k), ext.scalar)))]);
}

t.test('issuer: the CA checks its own certificates by re-signing, and verifies any other signature', async (t) => {
  const f = fieldsOf(v.fields);
  const bytes = fromHex(v.certificate);
  const at = { now: f.notBefore + 10, day: f.day, role: 'device' as const };
  let signs = 0;
  const ca = new Ed25519Signer(caSeed);
  const issuer = Object.assign(Object.create(ca) as Ed25519Signer, { sign: (m: Uint8Array) => (signs++, ca.sign(m)) });
  t.equal(verifyCertificate(bytes, caPub, { ...at, issuer }).serial, 4242, 'its own certificate');
  t.equal(signs, 1, 'one signature made');
  const forged = bytes.slice();
  forged[3] ^= 1;
  t.throws(() => verifyCertificate(forged, caPub, { ...at, issuer }), { code: 'E_SIGNATURE' }, 'a changed field');
  const badSig = bytes.slice();
  badSig[badSig.length - 1] ^= 1;
  t.throws(() => verifyCertificate(badSig, caPub, { ...at, issuer }), { code: 'E_SIGNATURE' }, 'a changed signature');
  // the same CA's valid signature with another nonce: not the re-signed bytes, so verified, and accepted
  const body = bytes.subarray(0, bytes.length - 64);
  const signed = Uint8Array.from([...new TextEncoder().encode('beepkit/cert/v1'), ...body]);
  const other = signWithNonce(caSeed, signed, 123_456_789n);
  t.ok(ed25519Verify(caPub, signed, other), 'the other signature is valid');
  t.not(toHex(other), toHex(bytes.subarray(bytes.length - 64)), 'and not the deterministic one');
  const resigned = Uint8Array.from([...body, ...other]);
  t.equal(verifyCertificate(resigned, caPub, { ...at, issuer }).serial, 4242, 'another valid signature: verified, accepted');
  const otherCa = new Ed25519Signer(new Uint8Array(32).fill(9));
  t.equal(verifyCertificate(bytes, caPub, { ...at, issuer: otherCa }).serial, 4242, 'an issuer of another key is ignored');
  const theirs = issueCertificate(otherCa, f);
  t.throws(() => verifyCertificate(theirs.bytes, caPub, { ...at, issuer: otherCa }), { code: 'E_CERT' }, 'still only caPub certificates');
});

t.test('property: decode(encode(c)) == c; any flipped byte fails verification', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(fieldsArb, (f) => {
      runs++;
      const c = issueCertificate(caSeed, f);
      const d = decodeCertificate(encodeCertificate(c));
      const same = norm(d) === norm(c);
      verifyCertificate(d, caPub, { now: f.notBefore, day: f.day });
      return same;
    }),
    { seed: 41, numRuns: 200 },
  );
  t.equal(runs, 200);
  const bytes = fromHex(v.certificate);
  let rejected = 0;
  for (let i = 0; i < bytes.length; i++) {
    const x = bytes.slice();
    x[i] ^= 0x10;
    try {
      verifyCertificate(x, caPub, { now: v.fields.notBefore });
    } catch (e) {
      if (isBeepkitError(e)) rejected++;
    }
  }
  t.equal(rejected, bytes.length);
});

t.test('fuzz: certificate decoder (and verifier)', async (t) => {
  const seeds = fc.sample(fieldsArb, { seed: 3, numRuns: 20 }).map((f) => issueCertificate(caSeed, f).bytes);
  const r = fuzz(decodeCertificate, seeds, 100_000, 404);
  t.same(r.escaped, [], JSON.stringify(r.codes));
  t.equal(r.runs, 100_000);
  const r2 = fuzz((b) => verifyCertificate(b, caPub, { now: 1 }), [fromHex(v.certificate)], 5_000, 405);
  t.same(r2.escaped, []);
  t.equal(r2.accepted, 0, 'no mutation verifies');
});
