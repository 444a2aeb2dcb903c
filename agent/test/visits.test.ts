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
  t.same(det.current().map((v) => v.venueId), ['v']);
});

t.test('a frame after a long silence closes the old visit first', async (t) => {
  const det = new VisitDetector({ enterFrames: 1, exitAfterMs: 10_000 });
  det.observe('v', -60, 50, T0);
  const ev = det.observe('v', -60, 50, T0 + 60_000);
  t.same(ev?.map((e) => e.type), ['exit', 'enter']);
  t.equal(det.visits()[0].exit, T0);
  t.equal(det.purge(T0 + 1), 1);
  det.restore([{ venueId: 'w', entry: 1, exit: 2, minAttenuation: 50, frames: 3 }]);
  t.equal(det.visits().length, 1);
  t.throws(() => new VisitDetector({ enterFrames: 0 }), { code: 'E_CONFIG' });
});
