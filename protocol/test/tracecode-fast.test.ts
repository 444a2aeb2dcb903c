/**
 * The solver's allocation-free open (ChaChaPolyOpener, TraceCodeOpener,
 * decodeGeodataFields) against the general path (node:crypto chachaOpen,
 * openTraceCode, decodeGeodata): vectors, properties, fuzz.
 */
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/bytes.ts';
import { isBeepkitError } from '../src/errors.ts';
import { GEODATA_FIELD as F, GEODATA_VENUE_OFFSET, encodeGeodata, generalise, type Geodata, type LevelName } from '../src/geodata/index.ts';
import { EcdhCache, TRACECODE_LEN, TraceCodeOpener, TraceCodeSealer, openTraceCode, openTraceCodeInto } from '../src/tracecode/index.ts';
import { createKeystore, deriveDayKeys } from '../src/keys/index.ts';
import { ChaChaPolyOpener, chachaSeal, nonceWord, x25519PublicKey } from '../src/crypto/index.ts';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { fuzz } from './crypto-fuzz.ts';

const tv = JSON.parse(readFileSync(new URL('./vectors/tracecode.json', import.meta.url), 'utf8'));
const kv = JSON.parse(readFileSync(new URL('./vectors/keys.json', import.meta.url), 'utf8'));
const day = kv.days.find((d: { day: number }) => d.day === 20001);
const solverPriv = fromHex(tv.solverPriv);
const solverPub = x25519PublicKey(solverPriv);

/** The Geodata openTraceCode would return, rebuilt from decodeGeodataFields slots + plaintext. */
function fromFields(x: Float64Array, plain: Uint8Array): Geodata {
  const g: Geodata = {
    level: x[F.level] as Geodata['level'],
    start: x[F.start],
    end: x[F.end],
    lat: x[F.latE7] / 1e7,
    lon: x[F.lonE7] / 1e7,
    accuracy: x[F.accuracy],
    sources: x[F.sources],
    perturbed: (x[F.flags] & 2) !== 0,
  };
  if (x[F.flags] & 1) g.venue = plain.slice(GEODATA_VENUE_OFFSET, GEODATA_VENUE_OFFSET + 8);
  return g;
}

/** Outcome of one path: 'ok:<json>' or the error code (false from openInto counts as E_DECRYPT). */
function viaOpener(o: TraceCodeOpener, b: Uint8Array): string {
  const x = new Float64Array(8);
  try {
    return o.openInto(b, 0, x) ? 'ok:' + JSON.stringify(fromFields(x, o.plain)) : 'E_DECRYPT';
  } catch (e) {
    if (isBeepkitError(e)) return e.code;
    throw e;
  }
}

function viaOpen(cache: EcdhCache, b: Uint8Array, eph: Uint8Array): string {
  try {
    return 'ok:' + JSON.stringify(openTraceCode(cache, b, eph));
  } catch (e) {
    if (isBeepkitError(e)) return e.code;
    throw e;
  }
}

t.test('vectors: the fast open gives the vector geodata', async (t) => {
  const cache = new EcdhCache(solverPriv);
  const o = new TraceCodeOpener(cache).setEphemeral(fromHex(day.ephemeralPub));
  for (const r of tv.records) t.equal(viaOpener(o, fromHex(r.hex)), viaOpen(cache, fromHex(r.hex), fromHex(day.ephemeralPub)));
  const x = new Float64Array(8);
  const rec = fromHex(tv.records[0].hex);
  const padded = new Uint8Array(rec.length + 7);
  padded.set(rec, 7);
  t.ok(openTraceCodeInto(cache, padded, 7, fromHex(day.ephemeralPub), x), 'opens at an offset');
  t.ok(o.openInto(padded, 7, x));
  t.equal(toHex(encodeGeodata(fromFields(x, o.plain))), tv.geodata.find((g: { level: string }) => g.level === 'grid10').encoded);
  t.equal(cache.misses, 1, 'one ECDH');
  t.throws(() => new TraceCodeOpener(cache).openInto(rec, 0, x), { code: 'E_CONFIG' });
  t.throws(() => o.openInto(rec, 1, x), { code: 'E_TRUNCATED' });
});

t.test('property: ChaChaPolyOpener equals node:crypto ChaCha20-Poly1305 (any lengths, offsets, tampering)', async (t) => {
  const o = new ChaChaPolyOpener();
  let runs = 0;
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 150 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.nat(5),
      fc.nat(400),
      fc.nat(7),
      (key, nonce, aad, pt, off, flipAt, bit) => {
        runs++;
        const sealed = chachaSeal(key, nonce, pt, aad);
        const src = new Uint8Array(off + sealed.length);
        src.set(sealed, off);
        const out = new Uint8Array(pt.length + 2);
        o.setKey(key);
        const args = [nonceWord(nonce, 0, 0), nonceWord(nonce, 0, 1), nonceWord(nonce, 0, 2)] as const;
        if (!o.open(...args, aad, 0, aad.length, src, off, pt.length, out, 2) || toHex(out.subarray(2)) !== toHex(pt)) return false;
        src[off + (flipAt % sealed.length)] ^= 1 << bit;
        const before = toHex(out);
        out.fill(0xaa);
        const refused = !o.open(...args, aad, 0, aad.length, src, off, pt.length, out, 2);
        return refused && before !== '' && out.every((v) => v === 0xaa);
      },
    ),
    { seed: 71, numRuns: 400 },
  );
  t.equal(runs, 400);
  t.throws(() => o.setKey(new Uint8Array(31)), { code: 'E_KEY' });
});

t.test('Poly1305 alone: RFC 8439 §2.5.2 and the A.3 edge cases (h ≥ p, carries, wrap), and noble agreement', async (t) => {
  const o = new ChaChaPolyOpener();
  const hx = (s: string) => fromHex(s.replace(/\s/g, ''));
  const z16 = '00'.repeat(16);
  const ff16 = 'ff'.repeat(16);
  const cases: [string, string, string][] = [
    [
      '85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b',
      toHex(new TextEncoder().encode('Cryptographic Forum Research Group')),
      'a8061dc1305136c6c22b8baf0c0127a9',
    ],
    ['02' + '00'.repeat(15) + z16, ff16, '03' + '00'.repeat(15)],
    ['02' + '00'.repeat(15) + ff16, '02' + '00'.repeat(15), '03' + '00'.repeat(15)],
    ['01' + '00'.repeat(15) + z16, ff16 + 'f0' + 'ff'.repeat(15) + '11' + '00'.repeat(15), '05' + '00'.repeat(15)],
    ['01' + '00'.repeat(15) + z16, ff16 + 'fb' + 'fe'.repeat(15) + '01'.repeat(16), '00'.repeat(16)],
    ['02' + '00'.repeat(15) + z16, 'fd' + 'ff'.repeat(15), 'fa' + 'ff'.repeat(15)],
  ];
  for (const [k, m, tag] of cases) t.equal(toHex(o.poly1305(hx(k), hx(m))), tag);
  let runs = 0;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 }), fc.boolean(), (key, msg, saturate) => {
      runs++;
      // saturated messages and keys push the limbs to their bounds
      if (saturate) {
        msg.fill(0xff);
        key.fill(0xff, 0, 16);
      }
      return toHex(o.poly1305(key, msg)) === toHex(noblePoly1305(msg, key));
    }),
    { seed: 74, numRuns: 500 },
  );
  t.equal(runs, 500);
});

const dk = deriveDayKeys(createKeystore(new Uint8Array(32).fill(3), 19000), 19001);
const sealer = new TraceCodeSealer({ prefix: dk.pseudonym, ephemeralPriv: dk.ephemeralPriv, solverPub });
const geoArb: fc.Arbitrary<Geodata> = fc
  .record({
    start: fc.integer({ min: 0, max: 2 ** 31 }),
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    acc: fc.integer({ min: 0, max: 5000 }),
    level: fc.constantFrom<LevelName>('exact', 'grid10', 'grid50', 'grid250', 'grid1000', 'venue'),
    venue: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 })),
    perturb: fc.boolean(),
  })
  .map((r) =>
    generalise(
      {
        start: r.start,
        end: r.start + 1800,
        lat: r.lat,
        lon: r.lon,
        accuracy: r.acc,
        sources: 1 + (r.start % 31),
        venue: r.venue ?? (r.level === 'venue' ? new Uint8Array(8).fill(1) : undefined),
      },
      r.level,
      r.perturb ? { perturb: { seed: new Uint8Array(32), radius: 20 } } : {},
    ),
  );

t.test('property: TraceCodeOpener agrees with openTraceCode on sealed records', async (t) => {
  const cache = new EcdhCache(solverPriv);
  const o = new TraceCodeOpener(cache).setEphemeral(dk.ephemeralPub);
  let runs = 0;
  fc.assert(
    fc.property(geoArb, fc.integer({ min: 0, max: 0xffff }), (g, interval) => {
      runs++;
      const rec = sealer.seal(interval, g);
      const a = viaOpener(o, rec);
      return a.startsWith('ok:') && a === viaOpen(cache, rec, dk.ephemeralPub);
    }),
    { seed: 72, numRuns: 300 },
  );
  t.equal(runs, 300);
});

t.test('property: invalid plaintexts are refused with the same codes (geodata checks)', async (t) => {
  const cache = new EcdhCache(solverPriv);
  const o = new TraceCodeOpener(cache).setEphemeral(dk.ephemeralPub);
  const key = cache.key(dk.ephemeralPub);
  const codes: Record<string, number> = {};
  fc.assert(
    fc.property(geoArb, fc.nat(29), fc.nat(255), (g, at, v) => {
      const pt = encodeGeodata(g);
      pt[at] = v;
      const rec = sealer.seal(5, g).slice();
      const nonce = new Uint8Array(12);
      nonce[1] = 5;
      nonce.set(rec.subarray(35, 43), 4);
      const aad = new Uint8Array(67);
      aad.set(rec.subarray(0, 33), 0);
      aad.set(dk.ephemeralPub, 33);
      aad[66] = 5;
      rec.set(chachaSeal(key, nonce, pt, aad), 43);
      const a = viaOpener(o, rec);
      codes[a.startsWith('ok:') ? 'ok' : a] = (codes[a.startsWith('ok:') ? 'ok' : a] ?? 0) + 1;
      return a === viaOpen(cache, rec, dk.ephemeralPub);
    }),
    { seed: 73, numRuns: 600 },
  );
  t.ok(codes.ok > 0 && Object.keys(codes).length >= 4, `outcomes ${JSON.stringify(codes)}`);
});

t.test('fuzz: TraceCodeOpener never lets anything but BeepkitError escape and agrees with openTraceCode', async (t) => {
  const cache = new EcdhCache(solverPriv);
  const o = new TraceCodeOpener(cache).setEphemeral(dk.ephemeralPub);
  const recs = [sealer.seal(1, fc.sample(geoArb, { seed: 1, numRuns: 1 })[0]), sealer.seal(2, fc.sample(geoArb, { seed: 2, numRuns: 1 })[0])];
  let disagree = 0;
  let opened = 0;
  const r = fuzz(
    (b) => {
      const a = viaOpener(o, b);
      if (a.startsWith('ok:')) opened++;
      if (b.length === TRACECODE_LEN && a !== viaOpen(cache, b, dk.ephemeralPub)) disagree++;
    },
    recs,
    30_000,
    605,
  );
  t.equal(disagree, 0);
  t.same(r.escaped, []);
  t.ok(opened > 0 && opened < 30_000, `${opened} opened`);
});
