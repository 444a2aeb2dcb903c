import t from 'tap';
import { dayRisks, windowWeightedMinutes, cwaConfig, CWA_DEFAULTS } from '../src/risk/index.ts';
import { infectionProbability, MATERIAL_HOURS } from '@beepkit/protocol/risk';
import { BeepkitError } from '@beepkit/protocol/errors';

const MIN = 60_000;
const DAY = 86_400_000;
const day0 = 20_000 * DAY;
/** A window on day0 with minutes per CWA bucket [<63, 63–73, 73–79, ≥79]. */
const w = (mins: number[], start = day0 + 3_600_000, minAttenuation = 60) => ({ start, minAttenuation, msByBucket: mins.map((m) => m * MIN) });

t.test('CWA window table', async (t) => {
  const cases: [string, number[], number | undefined][] = [
    ['4.99 min below 79 dB: dropped', [4.99, 0, 0, 0], undefined],
    ['exactly 5 min below 63 dB: kept, 0.8 each', [5, 0, 0, 0], 4],
    ['5 min 63–73: weight 1.0', [0, 5, 0, 0], 5],
    ['5 min 73–79: weight 0.1', [0, 0, 5, 0], 0.5],
    ['time at ≥ 79 dB does not count toward the 5 min', [0, 0, 4, 60], undefined],
    ['≥ 79 dB weighs 0', [2, 2, 1, 30], 0.8 * 2 + 2 + 0.1],
    ['mixed', [10, 3, 2, 0], 8 + 3 + 0.2],
  ];
  for (const [name, mins, want] of cases) {
    const r = windowWeightedMinutes(w(mins));
    if (want === undefined) t.equal(r, undefined, name);
    else t.ok(r && Math.abs(r.weighted - want) < 1e-9, `${name}: ${r?.weighted} ≈ ${want}`);
  }
});

t.test('CWA day thresholds: high at >= 13 weighted minutes', async (t) => {
  const cases: [string, number[][], 'high' | 'low' | undefined, number][] = [
    ['13 weighted minutes: high', [[0, 13, 0, 0]], 'high', 13],
    ['12.9 weighted minutes: low', [[0, 12.9, 0, 0]], 'low', 12.9],
    [
      'two windows adding to 13: high',
      [
        [0, 8, 0, 0],
        [0, 5, 0, 0],
      ],
      'high',
      13,
    ],
    ['16.25 min below 63 dB = 13 weighted: high', [[16.25, 0, 0, 0]], 'high', 13],
    ['16 min below 63 dB = 12.8: low', [[16, 0, 0, 0]], 'low', 12.8],
    [
      'only dropped windows: no risk',
      [
        [4, 0, 0, 0],
        [1, 1, 1, 0],
      ],
      undefined,
      0,
    ],
    ['kept window with zero weight: no risk', [[0, 0, 0, 0]], undefined, 0],
  ];
  for (const [name, ws, level, minutes] of cases) {
    const [d] = dayRisks(ws.map((m) => w(m)));
    t.equal(d.level, level, name);
    t.ok(Math.abs(d.weightedMinutes - minutes) < 1e-9, `${name}: weighted ${d.weightedMinutes}`);
  }
  const zero = cwaConfig({ dropIfMinutesBelow: 0 });
  t.equal(dayRisks([w([0, 0, 0, 0])], zero)[0].level, undefined);
});

t.test('days are separated and configurable', async (t) => {
  const days = dayRisks([w([0, 20, 0, 0]), w([0, 6, 0, 0], day0 + DAY + 1000)]);
  t.same(
    days.map((d) => [d.day, d.level]),
    [
      [20_000, 'high'],
      [20_001, 'low'],
    ],
  );
  const strict = cwaConfig({ highAtMinutes: 25 });
  t.equal(dayRisks([w([0, 20, 0, 0])], strict)[0].level, 'low');
  t.equal(dayRisks([w([0, 0, 10, 0])], cwaConfig({ weights: [1, 1, 2, 0] }))[0].weightedMinutes, 20);
  t.throws(() => cwaConfig({ weights: [1] }), BeepkitError);
  t.throws(() => cwaConfig({ bucketEdges: [70, 60, 80] }), BeepkitError);
  t.throws(() => windowWeightedMinutes({ start: 0, minAttenuation: 0, msByBucket: [1] }, CWA_DEFAULTS), { code: 'E_RANGE' });
});

t.test('Song et al. logistic probability', async (t) => {
  t.equal(infectionProbability({ rssi: 0, contactMinutes: 0, checkInGapMinutes: 0, material: 0 }, [0, 0, 0, 0, 0]), 0.5);
  const beta = [-4, 0.05, 0.1, -0.02, 0.01] as const;
  const near = infectionProbability({ rssi: -50, contactMinutes: 30, checkInGapMinutes: 0, material: 'plastic' }, beta);
  const far = infectionProbability({ rssi: -90, contactMinutes: 30, checkInGapMinutes: 0, material: 'plastic' }, beta);
  t.ok(near > far && near < 1 && far > 0, `nearer (stronger RSSI) is riskier with β1 > 0: ${near} > ${far}`);
  const z = -4 + 0.05 * -70 + 0.1 * 20 + -0.02 * 10 + 0.01 * MATERIAL_HOURS.copper;
  t.ok(Math.abs(infectionProbability({ rssi: -70, contactMinutes: 20, checkInGapMinutes: 10, material: 'copper' }, beta) - 1 / (1 + Math.exp(-z))) < 1e-12);
  t.throws(() => infectionProbability({ rssi: 0, contactMinutes: 0, checkInGapMinutes: 0, material: 'wood' as never }, beta), { code: 'E_RANGE' });
  t.throws(() => infectionProbability({ rssi: 0, contactMinutes: 0, checkInGapMinutes: 0, material: 1 }, [1, 2] as never), { code: 'E_CONFIG' });
});
