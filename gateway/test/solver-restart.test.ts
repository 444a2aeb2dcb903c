/**
 * The solver restarted mid-stream resumes from its persisted cursor without
 * missing or duplicating notifications, also after a crash between publishing
 * and saving its state.
 */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { buildConsent } from '@beepkit/protocol/endorse';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { Solver, ledgerNotificationSink, ledgerTracingSource, type NotificationSink } from '../src/solver/index.ts';
import { Diagnostician } from '../src/diagnosis/index.ts';
import { T0, batchOf, cafeTracks, caPub, diagnosticianCert, keysOf, ledgerSigner, seed, solverKey } from './solver-helpers.ts';

const now = () => (T0 + 3000) * 1000;

async function setup(dir: string) {
  const ledger = new EmbeddedLedger({ dir, signer: ledgerSigner, now });
  await ledger.open();
  const { tracks } = cafeTracks();
  const keys = Object.fromEntries(tracks.map((tr) => [tr.id, keysOf(tr.id)]));
  const dSeed = seed('diagnostician');
  const diag = new Diagnostician({ signingSeed: dSeed, certificate: diagnosticianCert(dSeed), caPub, ledger, sink: { publish: async () => undefined }, now });
  for (const tr of tracks.slice(0, 3)) await ledger.append('tracing', [{ data: batchOf(keys[tr.id], tr.fixes.slice(0, 30)) }]);
  await diag.endorse(buildConsent(diag.challenge(), [keys.alice]));
  for (const tr of tracks) await ledger.append('tracing', [{ data: batchOf(keys[tr.id], tr.fixes.slice(30), 'exact', 30) }]);
  await diag.endorse(buildConsent(diag.challenge(), [keys.alice]));
  await diag.endorse(buildConsent(diag.challenge(), [keys.bob]));
  return ledger;
}

async function published(l: EmbeddedLedger): Promise<string[]> {
  return (await l.blocks('notification', 0, 1000)).flatMap((b) => b.entries.map((e) => toHex(e.data)));
}

t.test('restart mid-stream: nothing missed, nothing duplicated', async (t) => {
  const dir = t.testdir();
  const reference: string[] = [];
  {
    const ledger = await setup(dir + '/ref');
    const s = new Solver({ source: ledgerTracingSource(ledger), sink: { publish: async (e) => reference.push(...e.map(toHex)) }, solverKey, caPub, now });
    await s.catchUp();
    await ledger.close();
  }
  t.ok(reference.length >= 4, `reference run published ${reference.length} notices`);
  t.equal(new Set(reference).size, reference.length, 'reference has no duplicates');

  const ledger = await setup(dir + '/run');
  t.teardown(() => ledger.close());
  const sink = ledgerNotificationSink(ledger);
  const stateFile = dir + '/solver.json';
  const first = new Solver({ source: ledgerTracingSource(ledger), sink, solverKey, caPub, now, stateFile, pageBlocks: 2 });
  first.open();
  t.equal(await first.catchUp(4), 4, 'first instance stops after 4 blocks (first endorsement processed)');
  const mid = await published(ledger);
  t.ok(mid.length > 0 && mid.length < reference.length, 'part of the notices published before the stop');

  const second = new Solver({ source: ledgerTracingSource(ledger), sink, solverKey, caPub, now, stateFile, pageBlocks: 2 });
  second.open();
  t.equal(second.cursor, first.cursor, 'second instance starts from the persisted cursor');
  await second.catchUp();
  t.same((await published(ledger)).sort(), [...reference].sort(), 'restarted run publishes exactly the reference set');

  // a third instance over the full chain publishes nothing more
  const third = new Solver({ source: ledgerTracingSource(ledger), sink, solverKey, caPub, now, stateFile });
  third.open();
  await third.catchUp();
  t.equal(third.stats.published, 0, 'nothing re-published after a full run');
});

t.test('crash between publish and state save: re-publishing is idempotent', async (t) => {
  const dir = t.testdir();
  const ledger = await setup(dir + '/ledger');
  t.teardown(() => ledger.close());
  const real = ledgerNotificationSink(ledger);
  const crashing: NotificationSink = {
    async publish(entries) {
      await real.publish(entries);
      throw new Error('power cut after publish');
    },
  };
  const stateFile = dir + '/solver.json';
  const a = new Solver({ source: ledgerTracingSource(ledger), sink: crashing, solverKey, caPub, now, stateFile });
  a.open();
  await t.rejects(a.catchUp(), /power cut/);
  const before = await published(ledger);
  t.ok(before.length > 0, 'the first notices reached the chain');
  const b = new Solver({ source: ledgerTracingSource(ledger), sink: real, solverKey, caPub, now, stateFile });
  b.open();
  t.equal(b.cursor, 0, 'state was not saved');
  await b.catchUp();
  const after = await published(ledger);
  t.equal(new Set(after).size, after.length, 'no duplicate entries on the notification chain');
  t.ok(after.length > before.length, 'the rest was published');
});
