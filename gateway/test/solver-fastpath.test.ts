/**
 * The solver's decrypt+index paths give identical indexes and stats:
 * ingestBatch (verified), ingestBatch with verifyBatches: false (ledger bytes,
 * structure-checked only), indexBatch (decoded) and ingestParallel on a
 * DecryptPool — including café records with venues, an undecryptable record,
 * a record past retention, a forged batch and malformed bytes; and the
 * openTraceCode reference decodes to the same columns.
 */
import t from 'tap';
import { decodeBatch, openTraceCode, EcdhCache } from '@beepkit/protocol/tracecode';
import { BatchScanner, DecryptPool, Solver, type GeoIndex } from '../src/solver/index.ts';
import { T0, batchOf, cafeTracks, caPub, keysOf, solverKey } from './solver-helpers.ts';

const nowMs = (T0 + 3000) * 1000;
const { tracks } = cafeTracks();
const good = tracks.map((tr) => batchOf(keysOf(tr.id), tr.fixes));
const venueOnly = batchOf(keysOf('venue-only'), tracks[0].fixes.filter((f) => f.venue).slice(0, 5), 'venue');
// a record whose ciphertext was altered: verify refuses the batch (signature), the trusted path counts it undecryptable
const altered = good[1].slice();
altered[altered.length - 64 - 10] ^= 1;
// an old record (beyond 14 days' retention) next to a fresh one
const old = batchOf(keysOf('old'), [
  { start: T0 - 20 * 86400, end: T0 - 20 * 86400 + 60, lat: 55.95, lon: -3.19, accuracy: 3, sources: 1 },
  { start: T0, end: T0 + 60, lat: 55.95, lon: -3.19, accuracy: 3, sources: 1 },
]);
const malformed = good[0].slice(0, 100);
const inputs = [...good, venueOnly, altered, old, malformed];

const mk = (verifyBatches: boolean) =>
  new Solver({ source: { blocks: async () => [] }, sink: { publish: async () => undefined }, solverKey, caPub, now: () => nowMs, verifyBatches });

function ingestAll(s: Solver, list: Uint8Array[]): void {
  for (const b of list) {
    try {
      s.ingestBatch(b, nowMs);
    } catch {
      s.stats.rejectedBatches++;
    }
  }
}

function columns(ix: GeoIndex): string {
  const c = (a: ArrayLike<number>) => Array.from(a).slice(0, ix.n).join(',');
  return [ix.n, ix.pseudonyms, c(ix.pid), c(ix.start), c(ix.end), c(ix.lat), c(ix.lon), c(ix.level), c(ix.venue), c(ix.pidNext), ix.levels].join('|');
}

t.test('verified, trusted, decoded and pooled paths agree', async (t) => {
  const verified = mk(true);
  ingestAll(verified, inputs);
  t.equal(verified.stats.rejectedBatches, 2, 'altered (signature) and malformed batches rejected');
  t.equal(verified.stats.records, tracks.length * 60 + 5 + 1, 'café records, venue-only records, the fresh one of old');
  t.equal(verified.stats.undecryptable, 0);

  const trusted = mk(false);
  ingestAll(trusted, inputs);
  t.equal(trusted.stats.rejectedBatches, 1, 'only the malformed batch');
  t.equal(trusted.stats.undecryptable, 1, 'the altered record');
  // the altered copy of good[1] claims the same pseudonym-day intervals again: one record per interval
  // (protocol/SPEC.md §7.4), so its 59 decryptable records are counted as conflicting claims, not indexed
  t.equal(trusted.stats.records, verified.stats.records);
  t.equal(trusted.stats.conflictingClaims, 59, "the altered batch's claims conflict with the original's");

  const decoded = mk(true);
  for (const b of [...good, venueOnly, old]) decoded.indexBatch(decodeBatch(b));
  t.equal(columns(decoded.index), columns(verified.index), 'indexBatch(decoded) == ingestBatch');
  const trustedGood = mk(false);
  ingestAll(trustedGood, [...good, venueOnly, old]);
  t.equal(columns(trustedGood.index), columns(verified.index), 'trusted path == verified path on valid batches');

  const pool = new DecryptPool({ solverKey, caPub, workers: 2 });
  pool.start();
  t.teardown(() => pool.stop());
  for (const [ref, v] of [
    [verified, true],
    [trusted, false],
  ] as const) {
    const p = mk(v);
    const n = await p.ingestParallel(pool, inputs, nowMs, 3);
    t.equal(n, ref.stats.records);
    t.same(p.stats, ref.stats, `pooled stats (verify ${v})`);
    t.equal(columns(p.index), columns(ref.index), `pooled index (verify ${v})`);
    t.same([p.index.venueId(tracks[0].fixes.find((f) => f.venue)!.venue!)], [ref.index.venueId(tracks[0].fixes.find((f) => f.venue)!.venue!)]);
  }
});

t.test('indexed columns equal the openTraceCode reference', async (t) => {
  const s = mk(false);
  ingestAll(s, [good[2]]);
  const b = decodeBatch(good[2]);
  const cache = new EcdhCache(solverKey);
  const ref = b.traceCodes.map((tc) => openTraceCode(cache, tc, b.ephemeralPub));
  // records of a pseudonym-day are chained newest first
  const got = s.index.recordsOf(0).reverse();
  t.equal(got.length, ref.length);
  t.same(
    got.map((i) => [s.index.start[i], s.index.end[i], s.index.lat[i], s.index.lon[i], s.index.level[i], s.index.venue[i] >= 0]),
    ref.map((g) => [g.start, g.end, Math.round(g.lat * 1e7), Math.round(g.lon * 1e7), g.level, !!g.venue]),
  );
});

t.test('batch scan refuses what decodeBatch refuses', async (t) => {
  const sc = new BatchScanner();
  const codeOf = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? 'raw';
    }
  };
  const variants: Uint8Array[] = [new Uint8Array(0), good[0].slice(0, 40), Uint8Array.from([...good[0], 0]), Uint8Array.from([2, ...good[0].subarray(1)])];
  const dup = good[0].slice();
  const first = 41 + ((dup[37] << 8) | dup[38]);
  dup.set(dup.subarray(first + 33, first + 35), first + 89 + 33); // record 1 takes record 0's interval
  variants.push(dup);
  for (const v of variants)
    t.equal(
      codeOf(() => sc.scan(v)),
      codeOf(() => decodeBatch(v)),
    );
  t.equal(sc.scan(good[0]).count, 60, 'and the scanner is reusable after a refusal');
});
