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
import { ed25519PublicKey } from '../src/crypto/index.ts';
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
