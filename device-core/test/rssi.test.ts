import t from 'tap';
import { BeepkitError } from '@beepkit/protocol';
import {
  Kalman1D,
  LowPass,
  Hampel,
  RssiFilter,
  attenuation,
  attenuationAt,
  estimateDistance,
  distanceMeters,
  calibrate,
  CalibrationCollector,
  lookupCalibration,
  parseCalibrationTable,
  mulberry32,
  gaussian,
  syntheticRssi,
  DEFAULT_PATH_LOSS,
} from '../src/rssi/index.ts';

function noisy(seed: number, n: number, level: number, sigma: number): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => level + sigma * gaussian(rng));
}

t.test('Kalman converges on a constant level with seeded noise', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const k = new Kalman1D(0.05, 16);
    let last = 0;
    for (const z of noisy(seed, 400, -70, 4)) last = k.update(z);
    t.ok(Math.abs(last + 70) < 1.5, `seed ${seed}: ${last.toFixed(2)} within 1.5 dB of -70`);
    t.ok(k.variance < 4, 'posterior variance shrank below measurement variance');
  }
});

t.test('Kalman tracks a step change', async (t) => {
  const k = new Kalman1D(0.5, 16);
  for (const z of noisy(7, 200, -60, 3)) k.update(z);
  let v = 0;
  for (const z of noisy(8, 200, -80, 3)) v = k.update(z);
  t.ok(Math.abs(v + 80) < 2.5, `after step ${v.toFixed(2)} near -80`);
});

t.test('LowPass converges and reduces variance', async (t) => {
  const lp = new LowPass(0.1);
  const out: number[] = [];
  for (const z of noisy(11, 500, -65, 4)) out.push(lp.update(z));
  const tail = out.slice(100);
  const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
  const sd = Math.sqrt(tail.reduce((a, b) => a + (b - mean) ** 2, 0) / tail.length);
  t.ok(Math.abs(mean + 65) < 1, `mean ${mean.toFixed(2)}`);
  t.ok(sd < 2, `smoothed sd ${sd.toFixed(2)} < raw 4`);
  t.throws(() => new LowPass(0), BeepkitError);
});

t.test('Hampel rejects injected spikes and keeps ordinary noise', async (t) => {
  const rng = mulberry32(42);
  const h = new Hampel(); // window 11, k 3.5: MAD from few samples is noisy, so a few % of plain noise is clipped to the median
  let spikes = 0;
  let caught = 0;
  let falsePos = 0;
  for (let i = 0; i < 2000; i++) {
    const spike = i > 10 && rng() < 0.05;
    const z = spike ? -70 + (rng() < 0.5 ? 30 : -30) : -70 + 2 * gaussian(rng);
    const out = h.update(z);
    if (spike) {
      spikes++;
      if (h.lastWasOutlier) caught++;
      t.ok(Math.abs(out + 70) < 8 || !h.lastWasOutlier, 'replacement is near the level');
    } else if (h.lastWasOutlier) falsePos++;
  }
  t.ok(caught / spikes > 0.95, `caught ${caught}/${spikes}`);
  t.ok(falsePos / 2000 < 0.03, `false positives ${falsePos}`);
  t.equal(h.outliers, caught + falsePos);
});

t.test('RssiFilter: spikes do not move the Kalman estimate', async (t) => {
  const f = new RssiFilter({ smoother: 'kalman', kalman: { q: 0.1, r: 9 } });
  const rng = mulberry32(5);
  for (let i = 0; i < 300; i++) f.update(i % 17 === 16 ? -20 : -75 + 3 * gaussian(rng));
  t.ok(Math.abs(f.value + 75) < 2, `estimate ${f.value.toFixed(2)}`);
  t.ok(f.outliers >= 15, `outliers ${f.outliers}`);
  const none = new RssiFilter({ outlier: null, smoother: 'none' });
  t.equal(none.update(-50), -50);
  const lp = new RssiFilter({ smoother: 'lowpass', lowpass: { alpha: 0.5 } });
  lp.update(-60);
  t.equal(lp.update(-70), -65);
});

t.test('attenuation and log-distance distance', async (t) => {
  t.equal(attenuation(-8, -60, 0), 52);
  t.equal(attenuation(-8, -60, 4), 48);
  t.equal(attenuationAt(1), DEFAULT_PATH_LOSS.a1m);
  t.ok(Math.abs(attenuationAt(10) - (50 + 25)) < 1e-9);
  for (const d of [0.5, 1, 3, 8, 20]) {
    const e = estimateDistance(attenuationAt(d));
    t.ok(Math.abs(e.meters - d) / d < 1e-9, `inverse at ${d} m`);
    t.ok(e.low < d && e.high > d, 'interval brackets truth');
    t.ok(Math.abs(distanceMeters(attenuationAt(d)) - d) < 1e-9);
  }
  const wide = estimateDistance(60, DEFAULT_PATH_LOSS, 9);
  t.equal(wide.sigmaDb, 5);
  t.throws(() => attenuationAt(0), { code: 'E_RANGE' });
});

t.test('distance estimate from filtered synthetic RSSI is within the 2σ band', async (t) => {
  const rng = mulberry32(99);
  const model = { a1m: 50, n: 2.5, sigma: 2 };
  for (const d of [1, 3, 8]) {
    const f = new RssiFilter({ kalman: { q: 0.01, r: 4 } });
    for (let i = 0; i < 300; i++) f.update(syntheticRssi(rng, d, -8, model));
    const e = estimateDistance(attenuation(-8, f.value), model);
    t.ok(e.meters > d / 1.5 && e.meters < d * 1.5, `${d} m → ${e.meters.toFixed(2)} m`);
  }
});

t.test('calibration procedure', async (t) => {
  const rng = mulberry32(2024);
  // receiver reads 5 dB low: true 1 m RSSI is -59
  const samples = Array.from({ length: 60 }, (_, i) => (i === 7 ? -20 : Math.round(-64 + 2 * gaussian(rng))));
  const r = calibrate(samples, { expectedRssiAt1m: -59 });
  t.ok(Math.abs(r.correction - 5) <= 1, `correction ${r.correction}`);
  t.equal(r.samples, 60);
  t.throws(() => calibrate(samples.slice(0, 5), { expectedRssiAt1m: -59 }), { code: 'E_CALIBRATION_SAMPLES' });
  const wild = Array.from({ length: 40 }, () => Math.round(-70 + 15 * gaussian(rng)));
  t.throws(() => calibrate(wild, { expectedRssiAt1m: -59 }), { code: 'E_CALIBRATION_SPREAD' });
  const c = new CalibrationCollector('AA:BB:CC:DD:EE:FF', 3);
  t.equal(c.push({ address: 'aa:bb:cc:dd:ee:ff', rssi: -60 }), false);
  c.push({ address: '11:22:33:44:55:66', rssi: -10 });
  c.push({ address: 'aa:bb:cc:dd:ee:ff', rssi: -61 });
  t.equal(c.push({ address: 'aa:bb:cc:dd:ee:ff', rssi: -62 }), true);
  t.same(c.samples, [-60, -61, -62]);
});

t.test('calibration table lookup and parsing', async (t) => {
  const table = parseCalibrationTable({
    default: { rssiCorrection: 0, txPower: -8 },
    models: { 'rpi4-nrf': { rssiCorrection: 3 } },
    units: { 'kit-7': { rssiCorrection: -2, txPower: -4 } },
  });
  t.same(lookupCalibration(table), { rssiCorrection: 0, txPower: -8 });
  t.same(lookupCalibration(table, { model: 'rpi4-nrf' }), { rssiCorrection: 3, txPower: -8 });
  t.same(lookupCalibration(table, { model: 'rpi4-nrf', unit: 'kit-7' }), { rssiCorrection: -2, txPower: -4 });
  t.throws(() => parseCalibrationTable({ default: { rssiCorrection: 'x' } }), { code: 'E_CONFIG' });
  t.throws(() => parseCalibrationTable(null), { code: 'E_CONFIG' });
});
