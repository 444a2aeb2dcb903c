/**
 * Venue-level records (a wearable without GNSS seals the venue id and no
 * position) are co-located with the patient's records at the same venue in
 * overlapping time: ≥ venueHighMinutes of overlap → high, less → low; another
 * venue, or the patient's records without a venue id → nothing by this rule.
 * Pure over GeoIndex, then once through the Solver on a real ledger.
 */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { buildConsent, decodeNotificationEntry } from '@beepkit/protocol/endorse';
import type { Fix } from '@beepkit/protocol/geodata';
import { GeoIndex } from '../src/solver/geoindex.ts';
import { exposures, matchRules } from '../src/solver/match.ts';
import { Solver, ledgerTracingSource } from '../src/solver/index.ts';
import { Diagnostician } from '../src/diagnosis/index.ts';
import { T0, batchOf, caPub, diagnosticianCert, keysOf, openLedger, seed, solverKey, venueIdOf } from './solver-helpers.ts';

const LAT = 559486000;
const LON = -31999000;
const GRID10 = 1;
const VENUE = 5;

function indexOf(rows: { who: string; start: number; end: number; level: number; venue?: string; dLatM?: number }[]): {
  ix: GeoIndex;
  pid: (who: string) => number;
} {
  const ix = new GeoIndex();
  const pids = new Map<string, number>();
  for (const r of rows) {
    let p = pids.get(r.who);
    if (p === undefined) pids.set(r.who, (p = ix.internPseudonym(new TextEncoder().encode(r.who.padEnd(16, '.')), 20000)));
    const venue = r.venue ? ix.internVenue(venueIdOf(r.venue)) : -1;
    const lat = r.level === VENUE ? 0 : LAT + Math.round(((r.dLatM ?? 0) / 111_195) * 1e7);
    ix.add({ pid: p, start: r.start, end: r.end, latE7: lat, lonE7: r.level === VENUE ? 0 : LON, level: r.level, venue });
  }
  return { ix, pid: (who) => pids.get(who)! };
}

t.test('venue-level records against the patient at the same venue: overlap decides', async (t) => {
  const { ix, pid } = indexOf([
    // the patient (GNSS agent): two stays at the café with its venue id, one elsewhere without
    { who: 'alice', start: 0, end: 1200, level: GRID10, venue: 'cafe' },
    { who: 'alice', start: 1200, end: 2400, level: GRID10, venue: 'cafe' },
    { who: 'alice', start: 5000, end: 6000, level: GRID10, dLatM: 500 },
    // a wearable at the café 20 min of the patient's 40 (across both of her stays): high
    { who: 'grace', start: 1000, end: 2200, level: VENUE, venue: 'cafe' },
    // a wearable at the café 5 min with the patient: low
    { who: 'hilda', start: 2100, end: 2400, level: VENUE, venue: 'cafe' },
    // a wearable at another venue at the same time: nothing
    { who: 'ivan', start: 0, end: 2400, level: VENUE, venue: 'library' },
    // a wearable 500 m away while the patient had no venue (no position to compare with): nothing
    { who: 'jane', start: 5000, end: 6000, level: VENUE, venue: 'park' },
    // a GNSS agent at the café 30 m away from her for 40 min: positions decide (the venue rule is not used between two positioned records)
    { who: 'karl', start: 0, end: 2400, level: GRID10, venue: 'cafe', dLatM: 30 },
  ]);
  const rules = matchRules();
  const risks = exposures(ix, [pid('alice')], rules);
  t.equal(risks.get(pid('grace')), 2, 'wearable overlapping 20 min at the same venue: high');
  t.equal(risks.get(pid('hilda')), 1, 'wearable overlapping 5 min: low');
  t.equal(risks.get(pid('ivan')), undefined, 'another venue: none');
  t.equal(risks.get(pid('jane')), undefined, 'patient record without a venue id: none');
  t.equal(risks.get(pid('karl')), 1, 'positioned records 30 m apart at the venue: only the same-hour venue policy (low)');
  t.equal(risks.get(pid('alice')), undefined, 'the patient herself: none');

  const off = exposures(ix, [pid('alice')], matchRules({ venueHighMinutes: 0 }));
  t.equal(off.get(pid('grace')), 1, 'venueHighMinutes 0: the overlap rule is off, the same-hour policy gives low');
  const none = exposures(ix, [pid('alice')], matchRules({ venueHighMinutes: 0, venueRisk: 0 }));
  t.equal(none.get(pid('grace')), undefined, 'both venue rules off: none');
  t.throws(() => matchRules({ venueHighMinutes: -1 }), { code: 'E_CONFIG' });
});

t.test('a venue-level patient exposes a positioned visitor carrying the venue id', async (t) => {
  const { ix, pid } = indexOf([
    { who: 'grace', start: 0, end: 3600, level: VENUE, venue: 'cafe' },
    { who: 'bob', start: 600, end: 1800, level: GRID10, venue: 'cafe' },
    { who: 'carl', start: 600, end: 1800, level: GRID10 },
  ]);
  const risks = exposures(ix, [pid('grace')], matchRules());
  t.equal(risks.get(pid('bob')), 2, 'visitor with the venue id, 20 min: high');
  t.equal(risks.get(pid('carl')), undefined, 'positioned record without a venue id: not co-located with a venue-level one');
});

t.test('solver: a wearable venue-only batch is matched against the patient at that venue', async (t) => {
  const clock = (T0 + 4 * 3600) * 1000;
  const now = () => clock;
  const dir = t.testdir();
  const { ledger, sink } = await openLedger(t, dir, now);
  const venue = venueIdOf('cafe');
  const fix = (start: number, end: number, withVenue: boolean): Fix => ({
    start,
    end,
    lat: 55.9486,
    lon: -3.1999,
    accuracy: 3,
    sources: 1,
    ...(withVenue ? { venue } : {}),
  });
  const alice = keysOf('alice');
  const grace = keysOf('grace');
  const dora = keysOf('dora');
  for (const b of [
    batchOf(alice, [fix(T0, T0 + 1800, true), fix(T0 + 1800, T0 + 3600, true)]),
    batchOf(grace, [fix(T0 + 600, T0 + 2700, true)], 'venue'),
    batchOf(dora, [fix(T0 + 3500, T0 + 3900, true)], 'venue'),
  ]) {
    const [r] = await ledger.append('tracing', [{ data: b }]);
    t.notOk('error' in r, 'batch appended');
  }
  const dSeed = seed('diagnostician');
  const diag = new Diagnostician({ signingSeed: dSeed, certificate: diagnosticianCert(dSeed), caPub, ledger, sink, now });
  await diag.endorse(buildConsent(diag.challenge(), [alice], {}));
  const solver = new Solver({ source: ledgerTracingSource(ledger), sink, solverKey, caPub, now, stateFile: dir + '/solver.json' });
  solver.open();
  await solver.catchUp();
  t.equal(solver.stats.records, 4, 'every record decrypted');
  const risk = new Map<string, number>();
  for (const b of await ledger.blocks('notification', 0, 100)) {
    for (const e of b.entries) {
      const n = decodeNotificationEntry(e.data);
      if (n.type === 'exposure') risk.set(toHex(n.fingerprint), n.risk);
    }
  }
  t.equal(risk.get(toHex(fingerprint(grace.pseudonym))), 2, 'the wearable at the café 35 min with her: high');
  t.equal(risk.get(toHex(fingerprint(dora.pseudonym))), 1, 'a wearable overlapping her 100 s: low');
  t.equal(risk.size, 2, 'only the exposed');
});
