import t from 'tap';
import { createCipheriv, createHash } from 'node:crypto';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { deriveRpis } from '@beepkit/protocol/rpi';
import { toHex } from '@beepkit/protocol/bytes';
import { OwnFingerprints, matchFingerprints, matchTeks, matchVenues, Set16, type EncounterLike } from '../src/matching/index.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const today = 20_413;
const now = today * DAY + 12 * 3_600_000;
/** Deterministic pseudo-random bytes (AES-128-CTR keystream of a seed). */
function prng(seed: string, n: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return new Uint8Array(c.update(Buffer.alloc(n)));
}
const ownPrefixes = Array.from({ length: 16 }, (_, i) => ({ day: today - i, prefix: prng(`prefix-${i}`, 32) }));

function block(n: number, seed: string): { fingerprints: Uint8Array; levels: Uint8Array; days: Uint32Array } {
  return { fingerprints: prng(seed, n * 16), levels: new Uint8Array(n).fill(2), days: new Uint32Array(n).fill(today - 3) };
}

t.test('own fingerprints keep the retention window only', async (t) => {
  const own = new OwnFingerprints(ownPrefixes, { now });
  t.equal(own.set.size, 14);
  t.ok(own.set.has(fingerprint(ownPrefixes[13].prefix)));
  t.notOk(own.set.has(fingerprint(ownPrefixes[14].prefix)), 'day 14 back is out of the window');
});

t.test('a block with one own fingerprint matches (high); a block without does not', async (t) => {
  const own = new OwnFingerprints(ownPrefixes, { now });
  const b = block(1000, 'small');
  t.same(matchFingerprints(own, b), []);
  b.fingerprints.set(fingerprint(ownPrefixes[3].prefix), 500 * 16);
  b.days[500] = today - 3;
  t.same(matchFingerprints(own, b), [{ kind: 'fingerprint', day: today - 3, level: 'high' }]);
  b.levels[500] = 0;
  t.same(matchFingerprints(own, b), [], 'level 0 (none) is not an exposure');
  t.throws(() => matchFingerprints(own, { fingerprints: b.fingerprints, levels: new Uint8Array(3), days: [] }), { code: 'E_RANGE' });
});

t.test('2.1 M fingerprints: one planted match found at a seeded random position', async (t) => {
  const own = new OwnFingerprints(ownPrefixes, { now });
  const n = 2_100_000;
  const b = block(n, 'big');
  b.levels.fill(1);
  t.same(matchFingerprints(own, b), [], 'no false positives in 2.1 M random fingerprints');
  const pos = prng('position', 4).reduce((a, x) => a * 256 + x, 0) % n;
  b.fingerprints.set(fingerprint(ownPrefixes[5].prefix), pos * 16);
  b.levels[pos] = 2;
  const hits: number[] = [];
  t.equal(
    own.set.scan(b.fingerprints, (i) => hits.push(i)),
    1,
  );
  t.same(hits, [pos]);
  t.same(matchFingerprints(own, b), [{ kind: 'fingerprint', day: today - 3, level: 'high' }]);
  // misaligned views still work (copied)
  const shifted = new Uint8Array(b.fingerprints.length + 1);
  shifted.set(b.fingerprints, 1);
  t.equal(
    own.set.scan(shifted.subarray(1), () => {}),
    1,
  );
});

t.test('Set16 with colliding first words', async (t) => {
  const a = new Uint8Array(16).fill(1);
  const b = new Uint8Array(16).fill(1);
  b[15] = 2;
  const s = new Set16([a, b]);
  t.ok(s.has(a));
  t.ok(s.has(b));
  const c = new Uint8Array(16).fill(1);
  c[8] = 9;
  t.notOk(s.has(c));
});

t.test('endorsed TEKs against the encounter log (with EN time tolerance)', async (t) => {
  const tek = prng('tek', 16);
  const start = Math.floor((today - 2) * 144);
  const rpis = deriveRpis(tek, start, 144);
  const rpiAt = (j: number): string => toHex(rpis.subarray(j * 16, j * 16 + 16));
  const at = (j: number): number => (start + j) * 10 * MIN;
  const window = (s: number) => ({ start: s, end: s + 20 * MIN, minAttenuation: 58, msByBucket: [15 * MIN, 5 * MIN, 0, 0] });
  const encounters: EncounterLike[] = [
    { rpi: rpiAt(60), firstSeen: at(60) + MIN, lastSeen: at(60) + 20 * MIN, windows: [window(at(60) + MIN)] },
    { rpi: rpiAt(90), firstSeen: at(90) + 6 * 3_600_000, lastSeen: at(90) + 7 * 3_600_000, windows: [window(at(90))] }, // replayed far outside its interval
    { rpi: toHex(prng('stranger', 16)), firstSeen: at(60), lastSeen: at(61), windows: [window(at(60))] },
  ];
  const other = { tek: prng('other-tek', 16), rollingStart: start };
  const res = matchTeks([other, { tek, rollingStart: start }], encounters);
  t.equal(res.length, 1);
  t.equal(res[0].kind, 'bluetooth');
  t.equal(res[0].day, today - 2);
  t.equal(res[0].windows.length, 1, 'only the in-time encounter counts');
  t.equal(res[0].windows[0].msByBucket[0], 15 * MIN);
  t.same(matchTeks([other], encounters), [], 'an unrelated key matches nothing');
  t.same(matchTeks([{ tek, rollingStart: start }], encounters, { chunk: 1 }).length, 1, 'chunked derivation');
});

t.test('venue exposure by overlap', async (t) => {
  const base = today * DAY + 10 * 3_600_000;
  const infected = [{ venueId: 'AABBCCDDEEFF0011', entry: base, exit: base + 60 * MIN }];
  const v = (entry: number, exit: number, venueId = 'aabbccddeeff0011') => ({ venueId, entry: base + entry * MIN, exit: base + exit * MIN });
  t.same(
    matchVenues(infected, [v(30, 90)]).map((e) => [e.level, e.overlapMs / MIN, e.checkInGapMs / MIN]),
    [['high', 30, 30]],
  );
  t.same(
    matchVenues(infected, [v(50, 90)]).map((e) => [e.level, e.overlapMs / MIN]),
    [['low', 10]],
  );
  t.same(matchVenues(infected, [v(61, 90)]), [], 'after the infected visitor left: none');
  t.same(
    matchVenues(infected, [v(61, 90)], { lingerMs: 30 * MIN }).map((e) => e.overlapMs / MIN),
    [29],
    'residual (linger) window',
  );
  t.same(matchVenues(infected, [v(0, 60, '00')]), [], 'other venue');
  t.same(matchVenues(infected, [v(55, 90)], { minMs: 10 * MIN }), [], 'below the minimum overlap');
  const open = { venueId: 'aabbccddeeff0011', entry: base + 40 * MIN };
  t.same(matchVenues(infected, [open]), [], 'an open visit without now: no exposure yet');
  t.same(
    matchVenues(infected, [open], { now: base + 50 * MIN }).map((e) => e.overlapMs / MIN),
    [10],
    'an open visit counts until now',
  );
});
