import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/bytes.ts';
import { GEODATA_LEN, Level, decodeGeodata, encodeGeodata, generalise, snapToGrid, type Fix, type Geodata } from '../src/geodata/index.ts';
import { fuzz } from './crypto-fuzz.ts';

const v = JSON.parse(readFileSync(new URL('./vectors/tracecode.json', import.meta.url), 'utf8'));
const fixOf = (f: { venue?: string } & Omit<Fix, 'venue'>): Fix => ({ ...f, venue: f.venue ? fromHex(f.venue) : undefined });

const geodataArb: fc.Arbitrary<Geodata> = fc
  .record({
    level: fc.integer({ min: 0, max: 4 }),
    start: fc.integer({ min: 0, max: 0xfffffff0 }),
    dur: fc.integer({ min: 0, max: 15 }),
    lat: fc.integer({ min: -900000000, max: 900000000 }),
    lon: fc.integer({ min: -1800000000, max: 1800000000 }),
    accuracy: fc.integer({ min: 0, max: 0xffff }),
    sources: fc.integer({ min: 0, max: 31 }),
    venue: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
    perturbed: fc.boolean(),
    venueOnly: fc.boolean(),
  })
  .map((r) => {
    const g: Geodata = {
      level: r.level as Geodata['level'],
      start: r.start,
      end: r.start + r.dur,
      lat: r.lat / 1e7,
      lon: r.lon / 1e7,
      accuracy: r.accuracy,
      sources: r.sources,
      perturbed: r.perturbed,
    };
    if (r.venue) g.venue = r.venue;
    if (r.venue && r.venueOnly) Object.assign(g, { level: Level.venue, lat: 0, lon: 0 });
    return g;
  });

t.test('vectors: every level encodes as in tracecode.json', async (t) => {
  const f = fixOf(v.fixes[0]);
  for (const g of v.geodata) {
    t.equal(toHex(encodeGeodata(generalise(f, g.level))), g.encoded, g.level);
    t.equal(fromHex(g.encoded).length, GEODATA_LEN, `${g.level}: fixed length`);
  }
  const p = generalise(fixOf(v.fixes[1]), 'grid50', { perturb: { seed: fromHex(v.perturb.seed), radius: v.perturb.radius } });
  t.equal(toHex(encodeGeodata(p)), v.perturb.encoded, 'seeded perturbation is deterministic');
});

t.test('generalisation levels', async (t) => {
  const f: Fix = { start: 1000, end: 2800, lat: 48.8583701, lon: 2.2944813, accuracy: 3, sources: 1 };
  const exact = generalise(f, 'exact');
  t.equal(exact.lat, 48.8583701);
  t.equal(exact.accuracy, 3);
  for (const [level, m] of [
    ['grid10', 10],
    ['grid50', 50],
    ['grid250', 250],
    ['grid1000', 1000],
  ] as const) {
    const g = generalise(f, level);
    const dy = Math.abs(g.lat - f.lat) * 111195;
    const dx = Math.abs(g.lon - f.lon) * 111195 * Math.cos((f.lat * Math.PI) / 180);
    t.ok(dy <= m / 2 + 0.1 && dx <= m / 2 + 0.1, `${level}: within half a cell (${dx.toFixed(1)}, ${dy.toFixed(1)})`);
    t.equal(g.accuracy, m / 2, `${level}: accuracy is at least half a cell`);
    const near = generalise({ ...f, lat: f.lat + 1e-7, lon: f.lon - 1e-7 }, level);
    t.same([near.lat, near.lon], [g.lat, g.lon], `${level}: a nearby fix snaps to the same centre`);
  }
  t.throws(() => generalise(f, 'venue'), { code: 'E_RANGE' }, 'venue-only needs a venue');
  const venue = generalise({ ...f, venue: new Uint8Array(8).fill(7) }, 'venue');
  t.same([venue.lat, venue.lon, venue.level], [0, 0, Level.venue]);
  const p1 = generalise(f, 'exact', { perturb: { seed: Uint8Array.of(1), radius: 100 } });
  const p2 = generalise(f, 'exact', { perturb: { seed: Uint8Array.of(2), radius: 100 } });
  t.not(p1.lat, p2.lat, 'different seeds differ');
  t.ok(p1.perturbed);
  t.ok(Math.abs(p1.lat - f.lat) * 111195 <= 100.5, 'perturbation within radius');
  t.same(snapToGrid(89.99999, 179.99999, 1000).lat <= 90, true);
  t.throws(() => generalise({ ...f, end: 999 }, 'exact'), { code: 'E_RANGE' });
  t.throws(() => generalise({ ...f, sources: 64 }, 'exact'), { code: 'E_RANGE' });
});

t.test('property: decode(encode(g)) == g, always GEODATA_LEN bytes', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(geodataArb, (g) => {
      runs++;
      const b = encodeGeodata(g);
      const back = decodeGeodata(b);
      return b.length === GEODATA_LEN && JSON.stringify(back) === JSON.stringify(g);
    }),
    { seed: 31, numRuns: 2000 },
  );
  t.equal(runs, 2000);
});

t.test('fuzz: geodata decoder', async (t) => {
  const seeds = fc.sample(geodataArb, { seed: 7, numRuns: 50 }).map(encodeGeodata);
  const r = fuzz(decodeGeodata, seeds, 100_000, 303);
  t.same(r.escaped, [], JSON.stringify(r.codes));
  t.equal(r.runs, 100_000);
  t.ok(r.accepted > 0, 'some mutations are still valid geodata');
});
