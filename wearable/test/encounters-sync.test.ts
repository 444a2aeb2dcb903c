/**
 * The wearable's EN encounters reach its carer (in-memory links: the protocol
 * and sync logic without radios): after the records, only those within
 * retention; nothing again when nothing changed; a grown encounter supersedes
 * the carer's copy (still one per RPI); a sync cut after the first batch and
 * resumed leaves every encounter at the carer exactly once; what the carer
 * acknowledged survives a restart of the wearable; logs carry counts only.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { CarerClient, CarerStore } from '@beepkit/agent/carer';
import { memoryLinkPair } from '@beepkit/protocol/carer';
import { EncounterLog } from '@beepkit/device-core/encounters';
import { WearableState } from '../src/state.ts';
import { WearableResponder } from '../src/responder.ts';

const DAY = 20_100;
const NOW_S = DAY * 86_400 + 12 * 3600;
const NOW = NOW_S * 1000;
const hex = (i: number, n = 16) => (i.toString(16).padStart(4, '0') + 'e0'.repeat(n)).slice(0, 2 * n);

async function setup(t: { testdir: (f: any) => string; teardown: (f: () => any) => void }) {
  const dir = t.testdir({ w: {}, c: {} });
  const lines: string[] = [];
  const logger = {
    info: (o: object, m: string) => void lines.push(JSON.stringify({ m, ...o })),
    warn: (o: object, m: string) => void lines.push(JSON.stringify({ m, ...o })),
    error() {},
    debug() {},
  };
  const state = new WearableState({ dataDir: `${dir}/w`, label: 'Rose', now: () => NOW_S, logger });
  await state.start();
  t.teardown(() => state.stop());
  const log = new EncounterLog();
  state.useEncounterLog(() => log.encounters());
  const store = await new CarerStore({ path: `${dir}/c/carer.bks`, key: new Uint8Array(32).fill(5) }).load();
  const client = new CarerClient({ store, now: () => NOW, timeoutMs: 5_000, sink: async () => {} });
  return { dir, state, log, store, client, lines, logger };
}

function session(state: WearableState, logger?: ConstructorParameters<typeof WearableResponder>[0]['logger']) {
  const { a, b } = memoryLinkPair();
  let shown!: (code: string) => void;
  const code = new Promise<string>((resolve) => (shown = resolve));
  const responder = new WearableResponder({ state, pairingAllowed: () => true, timeoutMs: 5_000, confirm: async (c) => (shown(c), true), logger });
  const served = responder.serve(b);
  served.catch(() => {});
  return { a, served, compare: async (c: string) => c === (await code) };
}

/** `n` samples of an RPI a minute apart, ending at `end`. */
function hear(log: EncounterLog, rpi: string, end: number, n = 5, att = 55): void {
  for (let i = n - 1; i >= 0; i--) log.record(rpi, 'a1b2c3d4', '11:22:33:44:55:66', att, end - i * 60_000);
}

t.test('encounters within retention follow the records; unchanged ones are not sent again; a grown one supersedes', async (t) => {
  const s = await setup(t);
  await s.state.record(new Uint8Array(randomBytes(89)));
  hear(s.log, hex(1), NOW - 3_600_000);
  hear(s.log, hex(2), NOW - 86_400_000);
  hear(s.log, hex(3), NOW - 15 * 86_400_000); // past the EN retention (14 days): stays on the wearable
  const x = session(s.state, s.logger);
  const paired = await s.client.pair(x.a, x.compare);
  const served = (await x.served) as { sentRecords: number; sentEncounters: number; ackedEncounters: number };
  t.match(paired, { delivered: 1, encounters: 2 });
  t.match(served, { sentRecords: 1, sentEncounters: 2, ackedEncounters: 2 });
  const id = paired.wearableId;
  t.same(
    s.store.encounters
      .list(id)
      .map((e) => e.rpi)
      .sort(),
    [hex(1), hex(2)],
  );

  const y = session(s.state, s.logger);
  t.match(await s.client.sync(y.a, id), { delivered: 0, encounters: 0 }, 'nothing changed: nothing sent');
  t.match(await y.served, { sentEncounters: 0 });

  hear(s.log, hex(1), NOW - 3_000_000, 3); // still heard: the encounter grows
  const z = session(s.state, s.logger);
  t.match(await s.client.sync(z.a, id), { encounters: 1 });
  t.match(await z.served, { sentEncounters: 1, ackedEncounters: 1 });
  t.equal(s.store.encounters.count(id), 2, 'still one per RPI');
  t.equal(s.store.encounters.list(id).find((e) => e.rpi === hex(1))!.lastSeen, NOW - 3_000_000, 'the grown copy superseded the older one');
  t.equal(s.store.encounters.list(id).find((e) => e.rpi === hex(1))!.samples, 8);

  const text = s.lines.join('\n');
  t.ok(
    s.lines.some((l) => l.includes('"encounters":1')),
    'the wearable logs counts',
  );
  t.notOk(text.includes(hex(1)) || text.includes(hex(2)), 'no RPI in the logs');
  t.notOk(text.includes(id), 'no wearable id in the wearable’s logs');
});

t.test('a sync cut after the first batch of encounters, resumed: every encounter at the carer exactly once; a restart resends nothing', async (t) => {
  const s = await setup(t);
  const N = 200;
  for (let i = 0; i < N; i++) hear(s.log, hex(100 + i), NOW - 3_600_000 + i * 1000, 10);
  const x = session(s.state);
  const paired = await s.client.pair(x.a, x.compare);
  const id = paired.wearableId;
  t.equal(paired.encounters, N, 'pairing sync: all of them');
  // more encounters, and the link cut once the carer took the first batch (before its ack)
  for (let i = 0; i < N; i++) hear(s.log, hex(100 + i), NOW - 1_800_000 + i * 1000, 2);
  for (let i = 0; i < 50; i++) hear(s.log, hex(1000 + i), NOW - 600_000, 3);
  const merged: number[] = [];
  const y = session(s.state);
  const cutOnFirst = (e: { added: number; updated: number }) => {
    merged.push(e.added + e.updated);
    if (merged.length === 1) y.a.cut();
  };
  s.client.on('encounters', cutOnFirst);
  await t.rejects(s.client.sync(y.a, id), { code: 'E_LINK' });
  await t.rejects(y.served, { code: 'E_LINK' });
  s.client.off('encounters', cutOnFirst);
  t.equal(merged.length, 1, 'one batch reached the carer before the cut');
  const first = merged[0];
  t.ok(first > 0 && first < N + 50, `part of the changes arrived (${first})`);
  t.ok((await s.state.encounters.pending()).length > N + 50 - first - 1, 'unacknowledged encounters stay pending on the wearable');

  const z = session(s.state);
  const resumed = await s.client.sync(z.a, id);
  const served = (await z.served) as { sentEncounters: number; ackedEncounters: number };
  t.equal(served.sentEncounters, N + 50, 'the cut batch went again (its ack was lost)');
  t.equal(resumed.encounters, N + 50 - first, 'the resent batch changed nothing at the carer');
  t.equal(s.store.encounters.count(id), N + 50, 'every encounter exactly once');
  const held = new Map(s.store.encounters.list(id).map((e) => [e.rpi, e]));
  t.ok(
    s.log.encounters().every((e) => held.get(e.rpi)?.lastSeen === e.lastSeen && held.get(e.rpi)?.samples === e.samples),
    'each the newest copy',
  );
  t.same(await s.state.encounters.pending(), [], 'nothing pending on the wearable');

  // the carer's store reopened: durable
  const again = await new CarerStore({ path: `${s.dir}/c/carer.bks`, key: new Uint8Array(32).fill(5) }).load();
  t.equal(again.encounters.count(id), N + 50);
  // the wearable restarted: what the carer acknowledged is remembered
  await s.state.stop();
  const state2 = new WearableState({ dataDir: `${s.dir}/w`, label: 'Rose', now: () => NOW_S });
  await state2.start();
  t.teardown(() => state2.stop());
  state2.useEncounterLog(() => s.log.encounters());
  t.same(await state2.encounters.pending(), [], 'after a restart nothing is resent');
  t.equal(await state2.encounters.ackedCount(), N + 50);
});
