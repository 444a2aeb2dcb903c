import t from 'tap';
import { fitLogistic, parseLabelledCsv } from '../src/riskfit/index.ts';
import { infectionProbability, type Beta } from '@beepkit/protocol/risk';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const MATS = ['aerosol', 'copper', 'cardboard', 'other', 'stainless-steel', 'plastic'];

t.test('IRLS recovers known coefficients within 3 standard errors', async (t) => {
  const truth: Beta = [2, 0.05, 0.08, -0.03, 0.02];
  const rnd = lcg(42);
  const rows = ['rssi,contact_minutes,checkin_gap_minutes,material,infected'];
  for (let i = 0; i < 4000; i++) {
    const rssi = -95 + 50 * rnd();
    const dtb = 60 * rnd();
    const dtc = 120 * rnd();
    const m = MATS[Math.floor(rnd() * MATS.length)];
    const p = infectionProbability(
      { rssi, contactMinutes: dtb, checkInGapMinutes: dtc, material: m === 'stainless-steel' ? 'stainlessSteel' : (m as 'plastic') },
      truth,
    );
    rows.push(`${rssi},${dtb},${dtc},${m},${rnd() < p ? 1 : 0}`);
  }
  const { x, y } = parseLabelledCsv(rows.join('\n'));
  const fit = fitLogistic(x, y);
  t.ok(fit.converged && fit.iterations < 20, `converged in ${fit.iterations} iterations`);
  fit.beta.forEach((b, j) =>
    t.ok(Math.abs(b - truth[j]) <= 3 * fit.standardErrors[j], `β${j} = ${b.toFixed(4)} ± ${fit.standardErrors[j].toFixed(4)} (true ${truth[j]})`),
  );
  t.ok(
    fit.standardErrors.every((s) => s > 0 && Number.isFinite(s)),
    'standard errors finite',
  );
});

t.test('separation and singular designs are reported', async (t) => {
  const r0 = lcg(7);
  const x = Array.from({ length: 40 }, (_, i) => [-90 + i, 60 * r0(), 120 * r0(), 3 + (i % 3)]);
  const y = x.map((r) => (r[0] > -70 ? 1 : 0));
  t.throws(() => fitLogistic(x, y), { code: 'E_SEPARATION' }, 'perfectly separated by RSSI');
  const rnd = lcg(1);
  const xs = Array.from({ length: 50 }, () => [rnd(), 5, rnd(), 3]);
  t.throws(
    () =>
      fitLogistic(
        xs,
        xs.map(() => (rnd() < 0.5 ? 1 : 0)),
      ),
    { code: 'E_SINGULAR' },
    'constant column',
  );
  t.throws(() => parseLabelledCsv('rssi,infected\n1,0'), { code: 'E_FORMAT' }, 'missing columns');
  t.throws(() => parseLabelledCsv('rssi,dtb,dtc,ms,y\n-60,1,2,wood,1'), { code: 'E_FORMAT' }, 'unknown material');
});
