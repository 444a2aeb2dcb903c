/**
 * Wearable ↔ carer over in-memory links (the protocol and sync logic without
 * radios): wrong code → nothing transferred; pairing + sync; a sync cut in
 * the middle and resumed delivers every record exactly once; a matching
 * notification block alerts the carer naming the person; revocation denies
 * the carer and tomorrow's keys are not available to it.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { toHex } from '@beepkit/protocol/bytes';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { CarerClient, CarerStore, matchForWearables, wearablePrefixes, type WearableRecord } from '@beepkit/agent/carer';
import { memoryLinkPair } from '@beepkit/protocol/carer';
import { packFingerprintBlock } from '@beepkit/agent/matching';
import { WearableState } from '../src/state.ts';
import { WearableResponder } from '../src/responder.ts';

const DAY = 20_000;
let clock = DAY * 86400 + 3600;
const now = () => clock;

async function setup(t: { testdir: (f: any) => string; teardown: (f: () => any) => void }) {
  const dir = t.testdir({ w: {}, c: {} });
  const state = new WearableState({ dataDir: `${dir}/w`, label: 'Rose', now });
  await state.start();
  t.teardown(() => state.stop());
  const store = await new CarerStore({ path: `${dir}/c/carer.bin`, key: new Uint8Array(32).fill(5) }).load();
  const got: WearableRecord[] = [];
  let sinkDelay = 0;
  let onRecord: ((n: number) => void) | undefined;
  const client = new CarerClient({
    store,
    now: () => clock * 1000,
    timeoutMs: 5_000,
    sink: async (r) => {
      got.push(r);
      onRecord?.(got.length);
      if (sinkDelay) await new Promise((res) => setTimeout(res, sinkDelay));
    },
  });
  return { state, store, client, got, setDelay: (ms: number) => (sinkDelay = ms), setOnRecord: (f: (n: number) => void) => (onRecord = f) };
}

const tc = (i: number) => new Uint8Array(randomBytes(89)).fill(i, 0, 4);

function session(s: Awaited<ReturnType<typeof setup>>, wearableOk = true) {
  const { a, b } = memoryLinkPair();
  let shown!: (code: string) => void;
  const code = new Promise<string>((resolve) => (shown = resolve));
  const responder = new WearableResponder({ state: s.state, pairingAllowed: () => true, timeoutMs: 5_000, confirm: async (c) => (shown(c), wearableOk) });
  const served = responder.serve(b);
  served.catch(() => {});
  /** The carer's user: compares its code with the one the wearable shows. */
  const compare = async (c: string) => c === (await code);
  return { a, b, served, compare, code };
}

t.test('wrong code: both abort, nothing transferred', async (t) => {
  const s = await setup(t);
  await s.state.record(tc(1));
  const x = session(s);
  await t.rejects(
    s.client.pair(x.a, async (code) => code === '000000' && false),
    { code: 'E_CODE' },
  );
  const why = await x.served.then(
    () => 'served',
    (e: { code: string }) => e.code,
  );
  t.ok(why === 'E_ABORTED' || why === 'E_LINK', `the wearable aborted too (${why})`);
  t.equal(s.store.list().length, 0, 'carer stored nothing');
  t.equal(s.state.pairing, undefined, 'wearable stored no pairing');
  t.equal(s.got.length, 0);
  t.equal(s.state.outbox.pending().length, 1, 'the record is still on the wearable');
  // the wearable's user declines: the carer gets nothing either
  const y = session(s, false);
  await t.rejects(
    s.client.pair(y.a, async () => true),
    { code: 'E_ABORTED' },
  );
  await t.rejects(y.served, { code: 'E_CODE' });
  t.equal(s.store.list().length, 0);
});

t.test('pair, sync, cut mid-transfer, resume exactly once, alert, revoke', async (t) => {
  const s = await setup(t);
  for (let i = 0; i < 5; i++) await s.state.record(tc(i));
  const x = session(s);
  let carerCode = '';
  const res = await s.client.pair(x.a, async (code) => ((carerCode = code), x.compare(code)));
  t.equal(carerCode, await x.code, 'both sides showed the same code');
  t.match(await x.served, { kind: 'paired', sentRecords: 5, acked: 5 });
  t.match(res, { label: 'Rose', delivered: 5, duplicates: 0 });
  const entry = s.store.list()[0];
  t.equal(entry.days.at(-1)!.day, DAY, 'today’s keys arrived');
  t.equal(entry.days.length, 1, 'keystore created today: one day');
  t.equal(s.state.outbox.pending().length, 0);

  // 30 more; the link is cut after the 8th arrives; resume finishes the rest exactly once
  for (let i = 0; i < 30; i++) await s.state.record(tc(100 + i));
  s.setDelay(5);
  const y = session(s);
  s.setOnRecord((n) => n === 5 + 8 && y.a.cut());
  await t.rejects(s.client.sync(y.a, entry.wearableId), { code: 'E_LINK' });
  await t.rejects(y.served, { code: 'E_LINK' });
  t.ok(s.state.outbox.pending().length > 0 && s.state.outbox.pending().length <= 30 - 8 + 4, 'unacked records stay pending');
  s.setOnRecord(() => {});
  const z = session(s);
  const r2 = await s.client.sync(z.a, entry.wearableId);
  await z.served;
  const ids = s.got.map((r) => toHex(r.id));
  t.equal(ids.length, 35, 'every record delivered');
  t.equal(new Set(ids).size, 35, 'none twice');
  t.ok(r2.delivered + 8 === 30, `resume delivered the rest (${r2.delivered}, duplicates acked again: ${r2.duplicates})`);
  t.equal(s.state.outbox.pending().length, 0);

  // self-matching for the wearable: the block carries its fingerprint of today
  const prefixes = wearablePrefixes(s.store, entry.wearableId);
  t.same(toHex(prefixes[0].prefix), toHex(s.state.keystore.dayKeys(DAY).pseudonym));
  const block = packFingerprintBlock([
    { fingerprint: new Uint8Array(16).fill(3), level: 'high', day: DAY },
    { fingerprint: fingerprint(prefixes[0].prefix), level: 'high', day: DAY },
  ]);
  const alerts = matchForWearables(s.store, block, clock * 1000);
  t.equal(alerts.length, 1);
  t.match(alerts[0], { person: 'Rose', level: 'high', day: DAY });
  t.match(alerts[0].explanation, /^Rose: .*Rose was/);

  // revocation: the next session is denied; tomorrow's keys never reach the carer
  const before = toHex(s.state.keystore.dayKeys(DAY + 1).pseudonym);
  t.match(await s.state.revokeCarer(), { hadCarer: true, rotatedFromDay: DAY });
  t.not(toHex(s.state.keystore.dayKeys(DAY + 1).pseudonym), before, 'tomorrow is under the new master');
  clock += 86400;
  const w = session(s);
  await t.rejects(s.client.sync(w.a, entry.wearableId), { code: 'E_ABORTED' });
  await t.rejects(w.served, { code: 'E_DENIED' });
  t.notOk(
    s.store.dayKeys(entry.wearableId).some((d) => d.day === DAY + 1),
    'the carer holds no key of tomorrow',
  );
  const held = new Set(s.store.dayKeys(entry.wearableId).map((d) => toHex(d.signingSeed)));
  t.notOk(held.has(toHex(s.state.keystore.dayKeys(DAY + 1).signingSeed)));

  // carer unpair after a fresh pairing: the wearable forgets it too
  const p = session(s);
  await s.client.pair(p.a, p.compare);
  await p.served;
  const u = session(s);
  await s.client.unpair(s.store.list()[0].wearableId, u.a);
  t.match(await u.served, { kind: 'synced', sentRecords: 0 });
  t.equal(s.state.pairing, undefined);
  t.equal(s.store.list().length, 0);
});
