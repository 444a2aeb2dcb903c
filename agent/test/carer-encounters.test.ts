/**
 * The wearable's EN encounters at the carer, pure and on disk: the
 * `encounters` inner message (pinned vector, round trips, fuzzed decode:
 * only BeepkitError escapes), the content id, batching bounds, the merge
 * rule (one per RPI, newest lastSeen wins), the sealed per-wearable store
 * (durable across reopen, 0600, retention, unpair deletes it, a wrong key
 * reads as nothing), and endorsed TEKs matched against a wearable's
 * encounters: an alert naming the person, none for TEKs it never heard;
 * the same through WearableProxy.onBlock, deduplicated.
 */
import t from 'tap';
import fc from 'fast-check';
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { BeepkitError } from '@beepkit/protocol/errors';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { intervalIds } from '@beepkit/protocol/rpi';
import type { Encounter } from '@beepkit/device-core/encounters';
import type { Alert, AlertSink } from '../src/alerts/index.ts';
import { CarerStore, matchTeksForWearables, WearableProxy } from '../src/carer/index.ts';
import {
  batchEncounters,
  decodeInner,
  encodedEncounterSize,
  encodeInner,
  encounterId,
  MAX_ENCOUNTER_BATCH_BYTES,
  MAX_WIRE_WINDOWS,
  mergeEncounters,
} from '@beepkit/protocol/carer';

const T = 1_750_000_000_000;
const VECTOR_ENCOUNTER: Encounter = {
  rpi: '00112233445566778899aabbccddeeff',
  aem: 'a1b2c3d4',
  firstSeen: T,
  lastSeen: T + 600_000,
  samples: 3,
  minAttenuation: 50,
  sumAttenuation: 157.5,
  windows: [{ start: T, end: T + 600_000, samples: 3, minAttenuation: 50, sumAttenuation: 157.5, msByBucket: [600_000, 0, 0, 0] }],
};
/** Pinned (regenerate only with a protocol version bump); the id was checked independently (Python hashlib). */
const VECTOR = {
  message:
    '28000100112233445566778899aabbccddeeffa1b2c3d4000001977420dc0000000197742a03c00000000340490000000000004063b0000000000001000001977420dc00' +
    '00000197742a03c00000000340490000000000004063b0000000000004000927c0000000000000000000000000',
  id: '8ca840ea82d5b29702f412f55c883c5b77790eaf3f0fb68e01babc8e930ca20a',
};

const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toHex);
const att = fc.double({ min: 0, max: 200, noNaN: true });
const arbWindow = fc
  .record({
    start: fc.integer({ min: 0, max: 2 ** 45 }),
    len: fc.integer({ min: 0, max: 1_800_000 }),
    samples: fc.integer({ min: 1, max: 1000 }),
    minAttenuation: att,
    sumAttenuation: att,
    msByBucket: fc.array(fc.integer({ min: 0, max: 1_800_000 }), { minLength: 4, maxLength: 4 }),
  })
  .map(({ len, ...w }) => ({ ...w, end: w.start + len }));
const arbEncounter: fc.Arbitrary<Encounter> = fc
  .record({
    rpi: hex(16),
    aem: hex(4),
    firstSeen: fc.integer({ min: 0, max: 2 ** 45 }),
    len: fc.integer({ min: 0, max: 86_400_000 }),
    samples: fc.integer({ min: 1, max: 100_000 }),
    minAttenuation: att,
    sumAttenuation: att,
    windows: fc.array(arbWindow, { maxLength: 5 }),
  })
  .map(({ len, ...e }) => ({ ...e, lastSeen: e.firstSeen + len }));

t.test('vector: one encounter as an `encounters` message and its content id', async (t) => {
  const b = encodeInner({ t: 'encounters', encounters: [VECTOR_ENCOUNTER] });
  t.equal(toHex(b), VECTOR.message);
  t.equal(b.length, 113);
  t.equal(toHex(encounterId(VECTOR_ENCOUNTER)), VECTOR.id);
  t.same(decodeInner(b), { t: 'encounters', encounters: [VECTOR_ENCOUNTER] });
  // the id follows the content that grows (lastSeen, samples), not the windows
  t.not(toHex(encounterId({ ...VECTOR_ENCOUNTER, lastSeen: T + 660_000 })), VECTOR.id, 'a grown encounter has a new id');
  t.not(toHex(encounterId({ ...VECTOR_ENCOUNTER, samples: 4 })), VECTOR.id);
  const noWindows: Encounter = { ...VECTOR_ENCOUNTER, windows: [] };
  t.equal(toHex(encounterId(noWindows)), VECTOR.id);
});

t.test('round trips (seeded property) and the window cap', async (t) => {
  fc.assert(
    fc.property(fc.array(arbEncounter, { maxLength: 6 }), (list) => {
      const b = encodeInner({ t: 'encounters', encounters: list });
      const back = decodeInner(b);
      // the batcher's size arithmetic is what the encoder writes (type + u16 count + each encounter)
      return back.t === 'encounters' && isDeepStrictEqual(back.encounters, list) && b.length === list.reduce((n, e) => n + encodedEncounterSize(e), 3);
    }),
    { seed: 8801, numRuns: 200 },
  );
  const many: Encounter = {
    ...VECTOR_ENCOUNTER,
    windows: Array.from({ length: MAX_WIRE_WINDOWS + 10 }, (_, i) => ({ ...VECTOR_ENCOUNTER.windows[0], start: T + i, end: T + i })),
  };
  const back = decodeInner(encodeInner({ t: 'encounters', encounters: [many] }));
  t.equal(back.t === 'encounters' && back.encounters[0].windows.length, MAX_WIRE_WINDOWS, 'at most MAX_WIRE_WINDOWS windows travel');
  t.equal(back.t === 'encounters' && back.encounters[0].windows[0].start, T + 10, 'the newest ones');
});

t.test('fuzzed decode: only BeepkitError escapes', async (t) => {
  const valid = fc.array(arbEncounter, { minLength: 1, maxLength: 3 }).map((l) => encodeInner({ t: 'encounters', encounters: l }));
  const mutated = fc
    .tuple(valid, fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 200 }))
    .map(([b, at, v, cut]) => {
      const c = b.slice(0, Math.max(1, b.length - cut));
      c[at % c.length] = at % 3 === 0 ? c[at % c.length] : v;
      return c;
    });
  const random = fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.of(0x28, ...b));
  let typed = 0;
  fc.assert(
    fc.property(fc.oneof(mutated, random), (b) => {
      try {
        decodeInner(b);
      } catch (e) {
        if (!(e instanceof BeepkitError) || !/^E_[A-Z_]+$/.test(e.code)) return false;
        typed++;
      }
      return true;
    }),
    { seed: 8802, numRuns: 3000 },
  );
  t.ok(typed > 100, `most mutations are refused with a typed error (${typed})`);
  // NaN / infinite attenuation, lastSeen before firstSeen
  const nan = encodeInner({ t: 'encounters', encounters: [{ ...VECTOR_ENCOUNTER, minAttenuation: NaN }] });
  t.throws(() => decodeInner(nan), { code: 'E_FORMAT' });
  const back = encodeInner({ t: 'encounters', encounters: [{ ...VECTOR_ENCOUNTER, firstSeen: T + 700_000 }] });
  t.throws(() => decodeInner(back), { code: 'E_FORMAT' });
});

t.test('batches stay within the bound and keep every encounter once', async (t) => {
  const list = fc.sample(arbEncounter, { seed: 8803, numRuns: 400 });
  const batches = batchEncounters(list);
  t.ok(batches.length > 1, `several batches (${batches.length})`);
  t.equal(batches.flat().length, list.length);
  for (const b of batches) t.ok(encodeInner({ t: 'encounters', encounters: b }).length <= MAX_ENCOUNTER_BATCH_BYTES, 'within the bound');
  t.same(batchEncounters([]), []);
});

t.test('merge: one per RPI, the newest lastSeen wins, an older or repeated copy changes nothing', async (t) => {
  const held = new Map<string, Encounter>();
  t.same(mergeEncounters(held, [VECTOR_ENCOUNTER]), { added: 1, updated: 0, unchanged: 0 });
  t.same(mergeEncounters(held, [VECTOR_ENCOUNTER]), { added: 0, updated: 0, unchanged: 1 }, 'the same copy again');
  const grown = { ...VECTOR_ENCOUNTER, lastSeen: T + 900_000, samples: 5 };
  t.same(mergeEncounters(held, [grown]), { added: 0, updated: 1, unchanged: 0 });
  t.same(mergeEncounters(held, [VECTOR_ENCOUNTER]), { added: 0, updated: 0, unchanged: 1 }, 'a stale copy does not regress it');
  t.equal(held.get(VECTOR_ENCOUNTER.rpi)!.lastSeen, T + 900_000);
});

const NOW = T + 3_600_000;
const enc = (rpi: string, lastSeen: number): Encounter => ({
  ...VECTOR_ENCOUNTER,
  rpi,
  firstSeen: lastSeen - 600_000,
  lastSeen,
  windows: [{ ...VECTOR_ENCOUNTER.windows[0], start: lastSeen - 600_000, end: lastSeen }],
});

async function pairedStore(dir: string, key = new Uint8Array(32).fill(3)) {
  const store = await new CarerStore({ path: join(dir, 'carer.bks'), key }).load();
  await store.pair({
    wearableId: new Uint8Array(16).fill(0xab),
    label: 'Grace',
    pairingId: new Uint8Array(16).fill(1),
    pairingKey: new Uint8Array(32).fill(2),
    nowMs: NOW,
  });
  return { store, id: 'ab'.repeat(16) };
}

t.test('store: durable across reopen (sealed, 0600, beside the outbox), retention, unpair deletes', async (t) => {
  const dir = t.testdir();
  const { store, id } = await pairedStore(dir);
  const old = enc('11'.repeat(16), NOW - 15 * 86_400_000);
  const r = await store.encounters.merge(id, [enc('22'.repeat(16), NOW), enc('33'.repeat(16), NOW - 60_000), old], NOW);
  t.same(r, { added: 2, updated: 0, unchanged: 1, pruned: 0 }, 'past retention is not taken');
  const file = join(dir, 'wearables', id, 'encounters.bin');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  const again = await new CarerStore({ path: join(dir, 'carer.bks'), key: new Uint8Array(32).fill(3) }).load();
  t.equal(again.encounters.count(id), 2, 'reopened: both encounters there');
  t.same(
    again.encounters
      .list(id)
      .map((e) => e.rpi)
      .sort(),
    ['22'.repeat(16), '33'.repeat(16)],
  );
  t.same(
    again.encounters.list(id).find((e) => e.rpi === '22'.repeat(16)),
    enc('22'.repeat(16), NOW),
    'content intact',
  );
  // another key cannot read it
  const other = new CarerStore({ path: join(dir, 'other.bks'), key: new Uint8Array(32).fill(4), wearablesDir: join(dir, 'wearables') });
  await t.rejects(other.encounters.load(id), BeepkitError);
  // retention: 14 days after the newest, everything is pruned
  t.equal(await again.encounters.prune(NOW + 15 * 86_400_000), 2);
  t.equal(again.encounters.count(id), 0);
  // unpair deletes the file
  t.equal(await store.unpair(id), true);
  t.notOk(existsSync(file), 'the encounter file is gone');
  t.equal(store.encounters.count(id), 0);
});

t.test('endorsed TEKs against a wearable’s encounters: an alert naming the person; TEKs it never heard: none', async (t) => {
  const dir = t.testdir();
  const { store, id } = await pairedStore(dir);
  const tek = new Uint8Array(16).fill(9);
  const enin = Math.floor((NOW - 1_200_000) / 600_000);
  const rollingStart = enin - (enin % 144);
  const [ids] = intervalIds(tek, enin, 1);
  const heard: Encounter = {
    rpi: toHex(ids.rpi),
    aem: toHex(ids.aem),
    firstSeen: NOW - 1_200_000,
    lastSeen: NOW - 300_000,
    samples: 16,
    minAttenuation: 55,
    sumAttenuation: 880,
    windows: [{ start: NOW - 1_200_000, end: NOW - 300_000, samples: 16, minAttenuation: 55, sumAttenuation: 880, msByBucket: [900_000, 0, 0, 0] }],
  };
  await store.encounters.merge(id, [heard, enc('44'.repeat(16), NOW)], NOW);
  const stranger = { tek: new Uint8Array(16).fill(1), rollingStart };
  t.same(matchTeksForWearables(store, [stranger], NOW), [], 'a TEK never heard: no alert');
  const alerts = matchTeksForWearables(store, [stranger, { tek, rollingStart }], NOW);
  t.equal(alerts.length, 1);
  t.match(alerts[0], { kind: 'bluetooth', person: 'Grace', wearableId: id, level: 'low', day: Math.floor(NOW / 86_400_000), minutes: 15 });
  t.match(alerts[0].explanation, /^Grace: .*Grace spent about 15 minutes/);
  t.notOk(alerts[0].explanation.includes(toHex(ids.rpi)), 'no identifier in the wording');

  // through the proxy (what the agent's follower calls): dispatched once, deduplicated
  const got: Alert[] = [];
  const sink: AlertSink = { name: 'test', deliver: async (a) => void got.push(a) };
  const proxy = new WearableProxy({
    store,
    dataDir: dir,
    key: new Uint8Array(32).fill(8),
    caPublicKey: new Uint8Array(32),
    gatewayPublicKey: new Uint8Array(32),
    sinks: [sink],
    now: () => NOW,
    mqtt: { request: () => Promise.reject(new BeepkitError('E_IO', 'no network in this test')), whenConnected: () => new Promise<void>(() => {}) },
  });
  await proxy.start();
  t.teardown(() => proxy.stop());
  const entry = (k: Uint8Array) => encodeNotificationEntry({ type: 'tek', tek: k, rollingStart, period: 144 });
  t.same(await proxy.onBlock({ height: 1, timeMs: NOW, entries: [entry(stranger.tek)] }), [], 'a block of strangers: none');
  const fresh = await proxy.onBlock({ height: 2, timeMs: NOW, entries: [entry(stranger.tek), entry(tek)] });
  t.match(fresh, [{ kind: 'bluetooth', person: 'Grace' }]);
  t.equal(got.length, 1, 'delivered to the sink');
  t.same(await proxy.onBlock({ height: 3, timeMs: NOW, entries: [entry(tek)] }), [], 'the same exposure again is deduplicated');
  t.equal(got.length, 1);
  t.match(proxy.counters(), { wearableEncounters: 2 });
});
