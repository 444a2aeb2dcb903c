import t from 'tap';
import { VisitDetector } from '../src/visits/index.ts';
import { mulberry32, syntheticRssi } from '../src/rssi/index.ts';

const T0 = 1_700_000_000_000;

t.test('synthetic walk: entry and exit within tolerance of truth', async (t) => {
  for (const seed of [1, 2, 3]) {
    const rng = mulberry32(seed);
    const det = new VisitDetector({ enterFrames: 3, enterWindowMs: 10_000, enterRssi: -80, exitAfterMs: 30_000 });
    const model = { a1m: 40, n: 2.2, sigma: 3 };
    // walk: far (150 m) → at the counter (2–5 m) from t = 120 s to t = 720 s → gone; a frame each second with 20 % loss
    const inside = (s: number) => s >= 120 && s < 720;
    const events: { type: string; at: number; entry: number; exit?: number }[] = [];
    for (let s = 0; s < 900; s++) {
      const at = T0 + s * 1000;
      for (const e of det.tick(at)) events.push({ type: e.type, at, entry: e.visit.entry, exit: e.visit.exit });
      const d = inside(s) ? 2 + 3 * rng() : 150;
      if (rng() < 0.2 || (!inside(s) && s >= 720)) continue; // lost frames; out of range after leaving
      const rssi = syntheticRssi(rng, d, -4, model);
      for (const e of det.observe('v1', rssi, -4 - rssi, at) ?? []) events.push({ type: e.type, at, entry: e.visit.entry, exit: e.visit.exit });
    }
    const enter = events.filter((e) => e.type === 'enter');
    const exit = events.filter((e) => e.type === 'exit');
    t.equal(enter.length, 1, `seed ${seed}: one entry`);
    t.equal(exit.length, 1, `seed ${seed}: one exit`);
    t.ok(Math.abs(enter[0].entry - (T0 + 120_000)) <= 10_000, `seed ${seed}: entry ${(enter[0].entry - T0) / 1000} s ≈ 120 s`);
    t.ok(Math.abs((exit[0].exit ?? 0) - (T0 + 720_000)) <= 10_000, `seed ${seed}: exit ${((exit[0].exit ?? 0) - T0) / 1000} s ≈ 720 s`);
    t.ok(exit[0].at - (exit[0].exit ?? 0) >= 30_000, 'exit declared only after the silence');
    const v = det.visits()[0];
    t.ok(v.minAttenuation < 40 + 22 * Math.log10(5) + 10, 'min attenuation is a near one');
  }
});

t.test('weak or sparse frames do not enter', async (t) => {
  const det = new VisitDetector({ enterFrames: 3, enterWindowMs: 10_000, enterRssi: -80 });
  t.equal(det.observe('v', -90, 80, T0), null);
  t.equal(det.observe('v', -90, 80, T0 + 1000), null);
  t.equal(det.observe('v', -70, 60, T0 + 2000), null);
  t.equal(det.observe('v', -70, 60, T0 + 15_000), null);
  t.equal(det.observe('v', -70, 60, T0 + 30_000), null, 'three strong frames but spread over 28 s');
  t.equal(det.observe('v', -70, 60, T0 + 31_000), null, 'last three span 16 s');
  const ev = det.observe('v', -70, 60, T0 + 32_000);
  t.equal(ev?.[0].type, 'enter');
  t.equal(ev?.[0].visit.entry, T0 + 30_000, 'entry at the first of the K frames');
  t.same(
    det.current().map((v) => v.venueId),
    ['v'],
  );
});

t.test('a frame after a long silence closes the old visit first', async (t) => {
  const det = new VisitDetector({ enterFrames: 1, exitAfterMs: 10_000 });
  det.observe('v', -60, 50, T0);
  const ev = det.observe('v', -60, 50, T0 + 60_000);
  t.same(
    ev?.map((e) => e.type),
    ['exit', 'enter'],
  );
  t.equal(det.visits()[0].exit, T0);
  t.equal(det.purge(T0 + 1), 1);
  det.restore([{ venueId: 'w', entry: 1, exit: 2, minAttenuation: 50, frames: 3 }]);
  t.equal(det.visits().length, 1);
  t.throws(() => new VisitDetector({ enterFrames: 0 }), { code: 'E_CONFIG' });
});

t.test('synthetic walk past a far-away beacon heard under free-space path loss: the visit ends', async (t) => {
  for (const seed of [4, 5, 6]) {
    const rng = mulberry32(seed);
    const det = new VisitDetector({ enterFrames: 3, enterWindowMs: 10_000, enterRssi: -70, exitAfterMs: 60_000 });
    t.equal(det.exitRssi, -76, 'exit threshold 6 dB below entry by default');
    // free space (n = 2): a −4 dBm beacon stays audible (≈ −85 dBm) 200 m away, and is heard all along
    const model = { a1m: 41, n: 2, sigma: 3 };
    const dist = (s: number) => (s < 120 ? 200 - s : s < 600 ? 3 : Math.min(200, 3 + (s - 600) * 1.4));
    const events: { type: string; at: number; entry: number; exit?: number }[] = [];
    let weakAfterExit = 0;
    for (let s = 0; s < 1200; s++) {
      const at = T0 + s * 1000;
      for (const e of det.tick(at)) events.push({ type: e.type, at, entry: e.visit.entry, exit: e.visit.exit });
      if (rng() < 0.2) continue;
      const rssi = syntheticRssi(rng, dist(s), -4, model);
      if (rssi < -95) continue; // below sensitivity
      if (s > 700) weakAfterExit++;
      for (const e of det.observe('far', rssi, -4 - rssi, at) ?? []) events.push({ type: e.type, at, entry: e.visit.entry, exit: e.visit.exit });
    }
    t.ok(weakAfterExit > 300, `seed ${seed}: the beacon is still heard after leaving (${weakAfterExit} frames)`);
    t.same(
      events.map((e) => e.type),
      ['enter', 'exit'],
      `seed ${seed}: one visit`,
    );
    const exit = events[1];
    // the exit threshold (−76 dBm) lies ≈ 35 m out under free space: the last strong frame comes ≈ 25 s after leaving the table
    const exitS = ((exit?.exit ?? 0) - T0) / 1000;
    t.ok(exitS >= 600 && exitS <= 660, `seed ${seed}: exit ${exitS} s, within a minute of leaving the table at 600 s`);
    t.ok(
      exit && exit.at - (exit.exit ?? 0) >= 60_000 && exit.at < T0 + 800_000,
      `seed ${seed}: declared after exitAfterMs, at ${((exit?.at ?? 0) - T0) / 1000} s`,
    );
    t.equal(det.current().length, 0, 'nobody stays forever');
  }
});

t.test('hysteresis: frames between the exit and the entry threshold keep a visit open but never open one', async (t) => {
  const det = new VisitDetector({ enterFrames: 2, enterWindowMs: 10_000, enterRssi: -70, exitRssi: -74, exitAfterMs: 10_000 });
  t.equal(det.observe('v', -72, 0, T0), null, 'between thresholds: no entry');
  t.equal(det.observe('v', -72, 0, T0 + 1000), null);
  det.observe('v', -65, 0, T0 + 2000);
  t.equal(det.observe('v', -65, 0, T0 + 3000)?.[0]?.type, 'enter');
  for (let s = 4; s < 30; s++) det.observe('v', -73, 0, T0 + s * 1000);
  t.same(det.tick(T0 + 35_000), [], 'frames at −73 dBm keep it open');
  const ev = [];
  for (let s = 30; s < 60; s++) ev.push(...(det.observe('v', -80, 0, T0 + s * 1000) ?? []));
  ev.push(...det.tick(T0 + 60_000));
  t.same(
    ev.map((e) => [e.type, e.visit.exit]),
    [['exit', T0 + 29_000]],
    'weaker frames do not: exit at the last frame above −74 dBm',
  );
  t.throws(() => new VisitDetector({ enterRssi: -70, exitRssi: -60 }), { code: 'E_CONFIG' });
});
