import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, type Rng } from '@beepkit/protocol/rng';
import { EncounterLog, deserialiseEncounters, openEncounters, serialiseEncounters, loadEncounters, saveEncounters, DAY_MS } from '../src/encounters/index.ts';
import { macNumber } from '../src/encounters/addresses.ts';
import { ReferenceEncounterLog } from './encounters-reference.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const FIXTURES = join(import.meta.dirname, 'fixtures');

const hex = (rng: Rng, n: number): string =>
  Array.from({ length: n }, () =>
    Math.floor(rng() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');

/** A seeded stream of observations: a crowd of RPIs (some sharing leading zero bytes), addresses in three spellings, gaps, repeats out of order. */
function* observations(seed: number, n: number, odd = false): Generator<[string, string, string, number, number, boolean]> {
  const rng = mulberry32(seed);
  const rpis = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? '00'.repeat(12) + hex(rng, 4) : hex(rng, 16)));
  const addrs = Array.from({ length: 40 }, (_, i) => {
    const mac = Array.from({ length: 6 }, () => hex(rng, 1)).join(':');
    return i % 5 === 0 ? mac.toUpperCase() : i % 7 === 0 ? `peer-${i}` : mac;
  });
  let at = T0;
  for (let i = 0; i < n; i++) {
    at += Math.floor(rng() * 40_000) + (rng() < 0.03 ? 12 * MIN : 0) + (rng() < 0.2 ? 0.25 : 0);
    const k = Math.floor(rng() * rpis.length);
    const when = rng() < 0.05 ? at - Math.floor(rng() * 3 * MIN) : at; // a late sample now and then
    const address = rng() < 0.85 ? addrs[k % addrs.length] : addrs[Math.floor(rng() * addrs.length)];
    // odd: now and then a time or an attenuation float32 does not hold (a calibration's correction of 0.1 dB)
    const att = 40 + Math.floor(rng() * 45) + (rng() < 0.3 ? 0.5 : 0) + (odd && i > n / 2 && rng() < 0.05 ? 0.1 : 0);
    yield [rpis[k], hex(rng, 4), address, att, when + (odd && i > n / 3 && rng() < 0.05 ? 0.1 : 0), rng() < 0.4];
  }
}

function same(t: Test, log: EncounterLog, ref: ReferenceEncounterLog, what: string): void {
  t.equal(log.size, ref.size, `${what}: size`);
  t.same(log.encounters(), ref.encounters(), `${what}: encounters`);
  t.same(log.exposureWindows(), ref.exposureWindows(), `${what}: windows`);
  t.same(log.rotations, ref.rotations, `${what}: rotations`);
}

for (const odd of [false, true])
  t.test(
    `windows identical to the reference (the object-per-encounter log) on a seeded stream, with purges${odd ? ', float32 columns widened midway' : ''}`,
    async (t) => {
      const opts = { retentionMs: 2 * 3_600_000 };
      const log = new EncounterLog(opts);
      const ref = new ReferenceEncounterLog(opts);
      let i = 0;
      let last = T0;
      for (const o of observations(0x18, 6000, odd)) {
        log.record(...o);
        ref.record(...o);
        last = Math.max(last, o[4]);
        if (++i % 700 === 0) {
          t.equal(log.purge(last), ref.purge(last), `purge ${i}: count`);
          same(t, log, ref, `after purge ${i}`);
        }
      }
      same(t, log, ref, 'at the end');
      t.ok(log.rotations.length > 0, 'rotations noted');
      t.same(log.encounters(last - 30 * MIN), ref.encounters(last - 30 * MIN), 'encounters since');
      for (const e of ref.encounters()) t.same(log.get(e.rpi.toUpperCase()), e, 'get, either case');
      t.equal(log.get('00'.repeat(16)), undefined);
      t.equal(log.get('not hex'), undefined);
      const st = log.store;
      const kinds = [st.wMs, st.wClose, st.sumAtt, st.wSumAtt, st.minAtt].map((c) => c.constructor.name);
      t.same(
        kinds,
        odd
          ? ['Float64Array', 'Float64Array', 'Float64Array', 'Float64Array', 'Float64Array']
          : ['Float32Array', 'Float32Array', 'Float32Array', 'Float32Array', 'Float32Array'],
        odd ? 'widened' : 'narrow',
      );
    },
  );

t.test('returned objects are copies: changing them changes nothing', async (t) => {
  const log = new EncounterLog();
  for (let m = 0; m < 5; m++) log.record('ab'.repeat(16), '01020304', 'a', 60, T0 + m * MIN);
  const e = log.get('ab'.repeat(16))!;
  e.samples = 99;
  e.windows[0].msByBucket[0] = -1;
  t.equal(log.get('ab'.repeat(16))?.samples, 5);
  t.same(log.get('ab'.repeat(16))?.windows[0].msByBucket, [4 * MIN, 0, 0, 0]);
  t.throws(() => log.record('abc', '01020304', 'a', 60, T0), { code: 'E_FORMAT' });
  t.throws(() => log.record('ab'.repeat(16), '0102', 'a', 60, T0), { code: 'E_FORMAT' });
});

t.test('slots and windows are reused after a purge: capacity stays put over many retention periods', async (t) => {
  const log = new EncounterLog({ retentionMs: DAY_MS });
  const rng = mulberry32(7);
  let caps = { encounters: 0, windows: 0 };
  for (let day = 0; day < 12; day++) {
    for (let i = 0; i < 2000; i++) {
      const at = T0 + day * DAY_MS + i * 30_000;
      const rpi = hex(rng, 16);
      log.record(rpi, 'a1b2c3d4', `c0:00:00:00:${hex(rng, 1)}:${hex(rng, 1)}`, 60, at);
      log.record(rpi, 'a1b2c3d4', 'c0:ff:ff:ff:ff:ff', 70, at + MIN);
    }
    log.purge(T0 + (day + 1) * DAY_MS - 1);
    if (day === 2) caps = log.store.capacity;
    if (day > 2) t.same(log.store.capacity, caps, `day ${day}: no growth`);
  }
  t.ok(log.size <= 4000 && log.size >= 2000, `${log.size} encounters within a day`);
  t.equal(log.encounters().length, log.size);
});

t.test('many encounters: each found by its RPI, the hash agreeing with a Map', async (t) => {
  const log = new EncounterLog({ retentionMs: Infinity });
  const rng = mulberry32(99);
  const seen = new Map<string, number>();
  for (let i = 0; i < 60_000; i++) {
    const rpi = i % 4 === 0 ? i.toString(16).padStart(32, '0') : hex(rng, 16);
    log.record(rpi, '00000000', `c0:00:00:${hex(rng, 1)}:${hex(rng, 1)}:${hex(rng, 1)}`, 50, T0 + i);
    seen.set(rpi, (seen.get(rpi) ?? 0) + 1);
  }
  t.equal(log.size, seen.size);
  let bad = 0;
  for (const [rpi, n] of seen) if (log.get(rpi)?.samples !== n) bad++;
  t.equal(bad, 0, 'every RPI found with its sample count');
  t.ok(log.bytes / log.size < 250, `${(log.bytes / log.size).toFixed(0)} column bytes an encounter`);
});

t.test('round trip through the codec and the sealed file; restoreFrom takes the columns', async (t) => {
  const log = new EncounterLog({ retentionMs: 6 * 3_600_000 });
  for (const o of observations(0x5eed, 3000)) log.record(o[0], o[1], o[2], o[3], Math.round(o[4]), o[5]);
  const back = deserialiseEncounters(serialiseEncounters(log));
  t.same(back.encounters(), log.encounters());
  t.same(back.rotations, log.rotations);
  const key = new Uint8Array(32).fill(3);
  const path = join(t.testdir({}), 'encounters.bin');
  await saveEncounters(path, log, key);
  const loaded = await loadEncounters(path, key);
  t.same(loaded.encounters(), log.encounters());
  const live = new EncounterLog();
  live.record('ff'.repeat(16), '00000000', 'c0:00:00:00:00:01', 60, T0);
  live.restoreFrom(loaded);
  t.same(live.encounters(), log.encounters(), 'the loaded encounters');
  t.same(live.rotations, [], 'rotations not taken, as restore(log.encounters(), [])');
  t.equal(loaded.size, 0, 'the other log left empty');
  const ref = new EncounterLog();
  ref.restore(log.encounters(), []);
  const more = [...observations(0xbeef, 500)].map((o) => [o[0], o[1], o[2], o[3], Math.round(o[4]) + DAY_MS, o[5]] as const);
  for (const o of more) {
    live.record(...o);
    ref.record(...o);
  }
  t.same(live.encounters(), ref.encounters(), 'records after restoreFrom as after restore');
});

t.test('a sealed log written by the code before the compact store still opens', async (t) => {
  const want = JSON.parse(readFileSync(join(FIXTURES, 'encounters-v2.json'), 'utf8'));
  const log = openEncounters(new Uint8Array(readFileSync(join(FIXTURES, 'encounters-v2.bin'))), new Uint8Array(32).fill(7));
  t.same(log.encounters(), want.encounters);
  t.same(log.rotations, want.rotations);
  t.ok(log.rotations.length > 0 && log.size > 0);
  // a version 1 log (no close time): the windows come back without msClose
  const v1 = serialiseV1(want.encounters);
  const old = deserialiseEncounters(v1);
  const noClose = want.encounters.map((e: { windows: { msClose?: number }[] }) => ({ ...e, windows: e.windows.map(({ msClose: _, ...w }) => w) }));
  t.strictSame(old.encounters(), noClose);
  t.notOk('msClose' in old.encounters()[0].windows[0]);
});

t.test('address spellings are kept apart', async (t) => {
  t.equal(macNumber('c0:aa:bb:cc:dd:ee'), 0xc0aabbccddee);
  t.not(macNumber('C0:AA:BB:CC:DD:EE'), macNumber('c0:aa:bb:cc:dd:ee'));
  t.equal(macNumber('00:11:22:33:44:55'), macNumber('00:11:22:33:44:55'.toUpperCase()), 'no letters: one spelling');
  t.ok(Number.isNaN(macNumber('C0:aa:bb:cc:dd:ee')));
  const log = new EncounterLog();
  const ref = new ReferenceEncounterLog();
  for (const [i, a] of ['c0:aa:bb:cc:dd:ee', 'C0:AA:BB:CC:DD:EE', 'C0:aa:bb:cc:dd:ee', 'c0:aa:bb:cc:dd:ee'].entries()) {
    log.record(i.toString(16).padStart(32, '0'), '00000000', a, 60, T0 + i * MIN);
    ref.record(i.toString(16).padStart(32, '0'), '00000000', a, 60, T0 + i * MIN);
  }
  t.same(log.rotations, ref.rotations);
});

/** The version 1 layout (as version 2 without each window's close time), written by hand. */
function serialiseV1(encounters: { rpi: string; aem: string; windows: { msByBucket: number[] }[] }[]): Uint8Array {
  const log = new EncounterLog();
  log.restore(encounters as never, []);
  const st = log.store;
  const parts: number[] = [];
  const dv = new DataView(new ArrayBuffer(8));
  const u = (n: number, bytes: number) => {
    for (let i = bytes - 1; i >= 0; i--) parts.push(Math.floor(n / 2 ** (8 * i)) % 256);
  };
  const f = (x: number) => {
    dv.setFloat64(0, x);
    for (let i = 0; i < 8; i++) parts.push(dv.getUint8(i));
  };
  u(0x424b454c, 4);
  u(1, 1);
  u(st.n, 4);
  for (let s = 0; s < st.n; s++) {
    parts.push(...st.rpi.subarray(16 * s, 16 * s + 16), ...st.aem.subarray(4 * s, 4 * s + 4));
    u(st.firstSeen[s], 8);
    u(st.lastSeen[s], 8);
    u(st.samples[s], 4);
    f(st.minAtt[s]);
    f(st.sumAtt[s]);
    u(st.windowCount(s), 2);
    for (let w = st.head[s]; w !== -1; w = st.wNext[w]) {
      u(st.wStart[w], 8);
      u(st.wEnd[w], 8);
      u(st.wSamples[w], 4);
      f(st.wMinAtt[w]);
      f(st.wSumAtt[w]);
      u(st.nb, 1);
      for (let b = 0; b < st.nb; b++) f(st.wMs[w * st.nb + b]);
    }
  }
  u(0, 4);
  return new Uint8Array(parts);
}
