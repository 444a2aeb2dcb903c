/**
 * End to end at library level, modelled on the café: real sealed TraceCodes
 * (one a minute) from the scenario trajectories, real signed batches on a real
 * embedded ledger, a real consent and endorsement; the solver publishes only
 * fingerprints with risk levels; the venue turns infected, then clean.
 */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { buildConsent, decodeNotificationEntry, type NotificationEntry } from '@beepkit/protocol/endorse';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { Solver, ledgerTracingSource } from '../src/solver/index.ts';
import { Diagnostician } from '../src/diagnosis/index.ts';
import { VenueRegistry } from '../src/venues/index.ts';
import { T0, batchOf, cafeTracks, caPub, diagnosticianCert, keysOf, openLedger, seed, solverKey } from './solver-helpers.ts';

async function notifications(l: EmbeddedLedger): Promise<NotificationEntry[]> {
  const out: NotificationEntry[] = [];
  for (const b of await l.blocks('notification', 0, 1000)) for (const e of b.entries) out.push(decodeNotificationEntry(e.data));
  return out;
}

t.test('café: bob and grace high, carol low, dave none; venue infected then clean', async (t) => {
  let clock = (T0 + 3000) * 1000;
  const now = () => clock;
  const dir = t.testdir();
  const { ledger, sink } = await openLedger(t, dir, now);

  const { tracks, venue } = cafeTracks();
  const keys = Object.fromEntries(tracks.map((tr) => [tr.id, keysOf(tr.id)]));
  // every device uploads its day in two batches (two blocks)
  for (const tr of tracks) {
    const half = tr.fixes.length / 2;
    for (const from of [0, half]) {
      const [r] = await ledger.append('tracing', [{ data: batchOf(keys[tr.id], tr.fixes.slice(from, from + half), 'exact', from) }]);
      t.notOk('error' in r, `batch of ${tr.id} appended`);
    }
  }

  const venues = new VenueRegistry({ sink, now });
  venues.register(venue, { region: 'scotland/city-of-edinburgh/edinburgh', surface: 'plastic' });
  const dSeed = seed('diagnostician');
  const diag = new Diagnostician({ signingSeed: dSeed, certificate: diagnosticianCert(dSeed), caPub, ledger, sink, venues, now });
  const alice = tracks.find((x) => x.id === 'alice')!;
  const consent = buildConsent(diag.challenge(), [keys.alice], { teks: true, visits: [alice.visit!] });
  t.equal(consent.teks.length, 0, "today's TEK is never shared");
  const res = await diag.endorse(consent);
  t.ok(res.receipt.blockHeight >= 0, 'endorsement on the tracing chain');
  t.equal(venues.venueState(venue).state, 'infected', 'venue infected by the endorsed visit');

  const solver = new Solver({ source: ledgerTracingSource(ledger), sink, solverKey, caPub, now, stateFile: dir + '/solver.json' });
  solver.open();
  await solver.catchUp();
  t.equal(solver.stats.records, tracks.length * 60, 'every record decrypted and indexed');
  t.equal(solver.stats.endorsements, 1);

  const entries = await notifications(ledger);
  const exposures = new Map(entries.filter((e) => e.type === 'exposure').map((e) => [toHex(e.fingerprint), e]));
  const riskOf = (id: string) => {
    const e = exposures.get(toHex(fingerprint(keys[id].pseudonym)));
    return e?.type === 'exposure' ? { risk: e.risk, day: e.day } : undefined;
  };
  t.same(riskOf('bob'), { risk: 2, day: keys.bob.day }, 'bob: high');
  t.same(riskOf('grace'), { risk: 2, day: keys.grace.day }, 'grace (wearable, next table): high');
  t.equal(riskOf('carol')?.risk ?? 0, 1, 'carol passing by: low');
  t.equal(riskOf('dave'), undefined, 'dave: none');
  t.equal(riskOf('alice'), undefined, 'the patient is not notified about herself');
  t.equal(exposures.size, 3, 'only fingerprints of the exposed');
  const ve = entries.find((e) => e.type === 'venue-exposure');
  t.ok(ve && ve.type === 'venue-exposure' && ve.end === alice.visit!.exit + 72 * 3600, 'venue exposure window extended by the plastic residual time (72 h)');

  // a second pass publishes nothing new (dedup)
  await solver.catchUp();
  t.equal((await notifications(ledger)).filter((e) => e.type === 'exposure').length, 3, 'no duplicates');

  clock += 15 * 86_400_000;
  const changes = await venues.tick();
  t.same(
    changes.map((c) => c.type === 'venue-state' && c.state),
    ['clean'],
    'venue clean after its window',
  );
  t.equal(venues.venueState(venue).state, 'clean');
  const states = (await notifications(ledger)).filter((e) => e.type === 'venue-state').map((e) => e.type === 'venue-state' && `${e.state}/${e.reason}`);
  t.same(states, ['infected/report', 'clean/expiry'], 'state changes are notification-chain records');
});
