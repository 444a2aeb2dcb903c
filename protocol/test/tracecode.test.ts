import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/bytes.ts';
import { isBeepkitError } from '../src/errors.ts';
import { x25519PublicKey } from '../src/crypto/index.ts';
import { createKeystore, deriveDayKeys } from '../src/keys/index.ts';
import { decodeGeodata, encodeGeodata, generalise, type Geodata } from '../src/geodata/index.ts';
import { issueCertificate, keyId } from '../src/cert/index.ts';
import {
  EcdhCache,
  SUFFIX_LEN,
  TRACECODE_LEN,
  TraceCodeSealer,
  decodeBatch,
  decodeTraceCode,
  encodeBatch,
  encodeTraceCode,
  fingerprint,
  openTraceCode,
  recordHash,
  sealTraceCode,
  signBatch,
  verifyBatch,
} from '../src/tracecode/index.ts';
import { fuzz } from './crypto-fuzz.ts';

const tv = JSON.parse(readFileSync(new URL('./vectors/tracecode.json', import.meta.url), 'utf8'));
const kv = JSON.parse(readFileSync(new URL('./vectors/keys.json', import.meta.url), 'utf8'));
const cv = JSON.parse(readFileSync(new URL('./vectors/cert.json', import.meta.url), 'utf8'));
const day = kv.days.find((d: { day: number }) => d.day === 20001);
const solverPriv = fromHex(tv.solverPriv);
const solverPub = fromHex(tv.solverPub);
const ephPub = fromHex(day.ephemeralPub);
const caPub = fromHex(cv.caPub);

t.test('vectors: records, fingerprint, record hash and batch', async (t) => {
  t.equal(toHex(x25519PublicKey(solverPriv)), tv.solverPub);
  t.equal(toHex(fingerprint(fromHex(day.pseudonym))), tv.fingerprint);
  const cache = new EcdhCache(solverPriv);
  const g0 = openTraceCode(cache, fromHex(tv.records[0].hex), ephPub);
  t.equal(toHex(encodeGeodata(g0)), tv.geodata.find((g: { level: string }) => g.level === 'grid10').encoded);
  t.equal(toHex(encodeGeodata(openTraceCode(solverPriv, fromHex(tv.records[1].hex), ephPub))), tv.perturb.encoded);
  const sealer = new TraceCodeSealer({ prefix: fromHex(day.pseudonym), ephemeralPriv: fromHex(day.ephemeralPriv), solverPub });
  const salt0 = decodeTraceCode(fromHex(tv.records[0].hex)).salt;
  t.equal(toHex(sealer.seal(2, g0, salt0)), tv.records[0].hex, 'sealing is reproducible with the same salt');
  for (const r of tv.records) t.equal(toHex(recordHash(fromHex(r.hex))), r.recordHash);
  const { batch, certificate } = verifyBatch(fromHex(tv.batch), { caPub, now: cv.fields.notBefore + 60 });
  t.equal(toHex(certificate.bytes), cv.certificate);
  t.same(
    batch.records.map(toHex),
    tv.records.map((r: { hex: string }) => r.hex),
  );
  t.equal(toHex(encodeBatch(batch)), tv.batch, 'encodeBatch(decodeBatch(x)) == x');
  t.equal(cache.misses, 1, 'one ECDH for the pseudonym-day');
  t.equal(fromHex(tv.records[0].hex).length, TRACECODE_LEN);
  t.equal(TRACECODE_LEN, 89);
  t.equal(SUFFIX_LEN, 56);
});

// ---- fixtures for properties ----
const ks = createKeystore(new Uint8Array(32).fill(3), 19000);
const dk = deriveDayKeys(ks, 19001);
const caSeed = new Uint8Array(32).fill(8);
const cert = issueCertificate(caSeed, {
  role: 'device',
  serial: 1,
  day: 19001,
  notBefore: 19001 * 86400,
  notAfter: 19002 * 86400,
  subject: dk.pseudonym,
  solverKeyId: keyId(solverPub),
  region: 'X/Y/Z',
});
const sealer = new TraceCodeSealer({ prefix: dk.pseudonym, ephemeralPriv: dk.ephemeralPriv, solverPub });
const geoArb: fc.Arbitrary<Geodata> = fc
  .record({
    start: fc.integer({ min: 0, max: 2 ** 31 }),
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    acc: fc.integer({ min: 0, max: 5000 }),
    level: fc.constantFrom('exact', 'grid10', 'grid50', 'grid250', 'grid1000') as fc.Arbitrary<'exact'>,
  })
  .map((r) => generalise({ start: r.start, end: r.start + 1800, lat: r.lat, lon: r.lon, accuracy: r.acc, sources: 1 }, r.level));
const geo = fc.sample(geoArb, { seed: 1, numRuns: 1 })[0];

function batchOf(n: number): Uint8Array {
  const records = Array.from({ length: n }, (_, i) => sealer.seal(i, geo));
  return signBatch({ day: 19001, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records }, dk.signingSeed);
}

t.test('property: seal/open and encode/decode round trip (TraceCode and batch)', async (t) => {
  const cache = new EcdhCache(solverPriv);
  let runs = 0;
  fc.assert(
    fc.property(geoArb, fc.integer({ min: 0, max: 0xffff }), (g, interval) => {
      runs++;
      const tc = sealTraceCode({ prefix: dk.pseudonym, ephemeralPriv: dk.ephemeralPriv, solverPub, interval, geodata: g });
      const d = decodeTraceCode(tc);
      return (
        toHex(encodeTraceCode(d)) === toHex(tc) &&
        d.interval === interval &&
        JSON.stringify(openTraceCode(cache, d, dk.ephemeralPub)) === JSON.stringify(decodeGeodata(encodeGeodata(g)))
      );
    }),
    { seed: 51, numRuns: 300 },
  );
  t.equal(runs, 300);
  t.equal(cache.misses, 1);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 30 }), (intervals) => {
      const records = intervals.map((i) => sealer.seal(i, geo));
      const b = signBatch({ day: 19001, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records }, dk.signingSeed);
      const d = decodeBatch(b);
      verifyBatch(d);
      return toHex(encodeBatch(d)) === toHex(b) && d.traceCodes.map((x) => x.interval).join() === intervals.join();
    }),
    { seed: 52, numRuns: 100 },
  );
});

t.test('flipping any single byte of a sealed record or a signed batch is rejected', async (t) => {
  const rec = sealer.seal(7, geo);
  let recRejected = 0;
  for (let i = 0; i < rec.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const x = rec.slice();
      x[i] ^= bit;
      try {
        openTraceCode(solverPriv, x, dk.ephemeralPub);
      } catch (e) {
        if (isBeepkitError(e)) recRejected++;
      }
    }
  }
  t.equal(recRejected, rec.length * 2, 'record');
  const b = batchOf(28);
  t.equal(b.length, 1 + 4 + 32 + 2 + cert.bytes.length + 2 + 28 * TRACECODE_LEN + 64, 'batch size');
  let batchRejected = 0;
  for (let i = 0; i < b.length; i++) {
    const x = b.slice();
    x[i] ^= 0x04;
    try {
      verifyBatch(x);
    } catch (e) {
      if (isBeepkitError(e)) batchRejected++;
    }
  }
  t.equal(batchRejected, b.length, 'batch');
});

t.test('records cannot be moved and batches are checked', async (t) => {
  const rec = sealer.seal(9, geo);
  const tc = decodeTraceCode(rec);
  t.throws(() => openTraceCode(solverPriv, { ...tc, interval: 10 }, dk.ephemeralPub), { code: 'E_DECRYPT' }, 'other interval');
  t.throws(() => openTraceCode(solverPriv, rec, ephPub), { code: 'E_DECRYPT' }, 'other batch ephemeral key');
  t.throws(() => openTraceCode(new Uint8Array(32).fill(1), rec, dk.ephemeralPub), { code: 'E_DECRYPT' }, 'other solver');
  const other = deriveDayKeys(ks, 19002);
  const foreign = new TraceCodeSealer({ prefix: other.pseudonym, ephemeralPriv: dk.ephemeralPriv, solverPub }).seal(1, geo);
  const mixed = signBatch({ day: 19001, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records: [rec, foreign] }, dk.signingSeed);
  t.throws(() => verifyBatch(mixed), { code: 'E_CERT' }, 'foreign prefix');
  const wrongSigner = signBatch({ day: 19001, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records: [rec] }, other.signingSeed);
  t.throws(() => verifyBatch(wrongSigner), { code: 'E_SIGNATURE' });
  const wrongDay = signBatch({ day: 19002, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records: [rec] }, dk.signingSeed);
  t.throws(() => verifyBatch(wrongDay), { code: 'E_CERT' });
  const dup = signBatch({ day: 19001, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records: [rec, sealer.seal(9, geo)] }, dk.signingSeed);
  t.throws(() => decodeBatch(dup), { code: 'E_FORMAT' }, 'duplicate interval');
  t.throws(() => verifyBatch(batchOf(1), { caPub: fromHex(cv.caPub), now: 19001 * 86400 }), { code: 'E_CERT' }, 'certificate from another CA');
  t.throws(() => verifyBatch(batchOf(1), { caPub: x25519PublicKey(caSeed) }), { code: 'E_CONFIG' });
  t.throws(() => signBatch({ day: 1, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records: [] }, dk.signingSeed), { code: 'E_RANGE' });
});

t.test('fuzz: TraceCode decoder/opener and batch decoder/verifier', async (t) => {
  const recs = [sealer.seal(1, geo), sealer.seal(2, geo)];
  const r1 = fuzz(decodeTraceCode, recs, 100_000, 601);
  t.same(r1.escaped, [], `decode: ${JSON.stringify(r1.codes)}`);
  const cache = new EcdhCache(solverPriv);
  const r2 = fuzz((b) => openTraceCode(cache, b, dk.ephemeralPub), recs, 30_000, 602);
  t.same(r2.escaped, [], `open: ${JSON.stringify(r2.codes)}`);
  const batches = [batchOf(1), batchOf(2)];
  const r3 = fuzz(decodeBatch, batches, 100_000, 603);
  t.same(r3.escaped, [], `batch: ${JSON.stringify(r3.codes)}`);
  const r4 = fuzz((b) => verifyBatch(b), batches, 20_000, 604);
  t.same(r4.escaped, [], `verify: ${JSON.stringify(r4.codes)}`);
  t.equal(r1.runs + r3.runs, 200_000);
});
