/**
 * The wearable's recorder on a fake radio and a stepped clock: a stay at one
 * venue is sealed at once (venue-only geodata) when the wearable enters
 * another venue, not at the next publishing decision; the decision interval
 * is the one given (the agents' 5 minutes in the field trial).
 */
import t from 'tap';
import { once } from 'node:events';
import { encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { x25519PublicKey } from '@beepkit/protocol/crypto';
import { decodeTraceCode, openTraceCode } from '@beepkit/protocol/tracecode';
import { fromHex } from '@beepkit/protocol/bytes';
import type { Radio } from '@beepkit/device-core/radio';
import { FakeRadio } from './fixtures/fake-radio.ts';
import { WearableState } from '../src/state.ts';
import { WearableRecorder } from '../src/recorder.ts';

const CAFE = fromHex('c0ffee000001');
const HOME = fromHex('00a0e0000002');
const KEY = new Uint8Array(32).fill(7);
const SOLVER_PRIV = new Uint8Array(32).fill(9);

t.test('entering another venue seals the open stay at once', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir();
  const day = 20000;
  let now = day * 86_400_000 + 10 * 3_600_000; // 10:00, an interval boundary
  const state = new WearableState({ dataDir: dir, label: 'Grace', now: () => Math.floor(now / 1000) });
  await state.start();
  t.teardown(() => state.stop());
  const radio = new FakeRadio();
  const rec = new WearableRecorder({
    state,
    radio: radio as unknown as Radio,
    now: () => now,
    solverKey: x25519PublicKey(SOLVER_PRIV),
    publisher: { intervalMs: 300_000 },
  });
  const frame = (venueId: Uint8Array): void => {
    radio.emit('advert', {
      address: 'c0:00:00:00:00:01',
      addressType: 'random',
      rssi: -60,
      data: encodeVenueFrame({ venueId, slot: slotOf(now / 1000), txPower: -4 }, KEY),
      connectable: false,
      receivedAt: now,
    });
  };
  const hear = (venueId: Uint8Array, frames = 3): void => {
    for (let i = 0; i < frames; i++) {
      frame(venueId);
      now += 1000;
    }
  };
  const sealed: number[] = [];
  rec.on('sealed', () => sealed.push(now));
  await rec.start();
  t.teardown(() => rec.stop());
  hear(CAFE);
  t.equal(rec.visits.current().length, 1, 'in the café');
  await rec.tick(); // the first decision opens the stay
  for (let s = 1; s <= 36; s++) {
    now = day * 86_400_000 + 10 * 3_600_000 + s * 20_000; // a frame every 20 s keeps the visit open
    hear(CAFE, 1);
    await rec.tick();
  }
  t.same(sealed, [], 'a stay of 12 min at the café is not sealed while it lasts');
  t.equal(rec.status().traceCodes.open, 1, 'one stay opened');

  // she walks home: the café visit is still open (exit after 60 s) when the home beacon opens a visit there
  now += 20_000;
  t.equal(rec.visits.current().length, 1, 'still in the café visit');
  const done = once(rec, 'sealed', { signal: AbortSignal.timeout(20_000) });
  hear(HOME);
  await done;
  t.equal(sealed.length, 1, 'the café stay is sealed on entering home, before the next decision');
  t.equal(state.outbox.pending().length, 1, 'its TraceCode waits in the outbox for the carer');
  const rec0 = state.outbox.pending()[0]!;
  const keys = state.keystore.dayKeys(day);
  const g = openTraceCode(SOLVER_PRIV, rec0.bytes, keys.ephemeralPub);
  t.equal(g.level, 5, 'venue-only geodata');
  t.same([...g.venue!.slice(0, 6)], [...CAFE], 'the café');
  t.ok(g.end - g.start >= 11 * 60, 'its window covers the stay');

  // the next decision opens the home stay, it does not seal the café again
  for (let s = 1; s <= 8; s++) {
    now = day * 86_400_000 + 10 * 3_600_000 + 12 * 60_000 + 20_000 + s * 20_000; // 10:12:40 … 10:15:00 at home
    hear(HOME, 1);
    await rec.tick();
  }
  t.equal(sealed.length, 1, 'nothing sealed twice');
  t.equal(rec.status().traceCodes.open, 2, 'the home stay opened at the next decision');
});

t.test('a process after another on the same data dir never seals an interval twice (pair, then run)', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir();
  const day = 20000;
  let now = day * 86_400_000 + 9 * 3_600_000;
  const state = new WearableState({ dataDir: dir, label: 'Grace', now: () => Math.floor(now / 1000) });
  await state.start();
  t.teardown(() => state.stop());
  const run = async (): Promise<void> => {
    const radio = new FakeRadio();
    const rec = new WearableRecorder({
      state,
      radio: radio as unknown as Radio,
      now: () => now,
      solverKey: x25519PublicKey(SOLVER_PRIV),
      publisher: { intervalMs: 300_000 },
    });
    await rec.start();
    for (let i = 0; i < 3; i++) {
      radio.emit('advert', {
        address: 'c0:00:00:00:00:01',
        addressType: 'random',
        rssi: -60,
        data: encodeVenueFrame({ venueId: HOME, slot: slotOf(now / 1000), txPower: -4 }, KEY),
        connectable: false,
        receivedAt: now,
      });
      now += 1000;
    }
    await rec.tick();
    await rec.stop(); // flush: the open stay is sealed
  };
  await run(); // `wearable pair`: opens a stay at 09:00 and seals it when it exits
  t.equal(state.outbox.pending().length, 1, 'the first process sealed its stay');
  now += 10_000; // the same interval
  await run(); // `wearable run`
  now = day * 86_400_000 + 9 * 3_600_000 + 5 * 60_000; // the next interval
  await run();
  const intervals = state.outbox.pending().map((r) => decodeTraceCode(r.bytes).interval);
  t.same(intervals.length, 2, 'nothing opened again in the interval already sealed; the next interval has its stay');
  t.equal(new Set(intervals).size, intervals.length, 'every interval once');
});
