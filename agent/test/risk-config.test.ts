/** risk.betaFile: the β of `beepkit risk fit --out`, validated; alerts then carry the model's probability. */
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { resolveConfig } from '../src/config/index.ts';
import { alertOptionsOf } from '../src/app/index.ts';
import { parseBeta } from '../src/risk/index.ts';
import { venueAlerts } from '../src/alerts/index.ts';

t.test('risk config and the β file', async (t) => {
  const dir = t.testdir();
  const fit = {
    model: 'song-logistic',
    terms: ['intercept', 'rssi', 'contactMinutes', 'checkInGapMinutes', 'materialHours'],
    beta: [-1, 0.04, 0.05, -0.01, 0.002],
    standardErrors: [1, 1, 1, 1, 1],
  };
  writeFileSync(join(dir, 'beta.json'), JSON.stringify(fit));
  const cfg = resolveConfig({ dataDir: dir, risk: { betaFile: 'beta.json', material: 'copper' } }, {}, dir);
  t.equal(cfg.risk.betaFile, join(dir, 'beta.json'), 'relative to the config file');
  const opts = alertOptionsOf(cfg);
  t.same(opts.beta, fit.beta);
  t.equal(opts.material, 'copper');
  t.same(alertOptionsOf(resolveConfig({ dataDir: dir })), {}, 'no β: no probability');
  const [a] = venueAlerts([{ kind: 'venue', day: 20_000, level: 'low', overlapMs: 600_000, checkInGapMs: 0 }], opts);
  t.ok(a && typeof a.probability === 'number' && a.probability > 0 && a.probability < 1, `venue alert probability ${a?.probability}`);
  t.throws(() => resolveConfig({ dataDir: dir, risk: { material: 'wood' } }), { code: 'E_CONFIG', message: /risk\.material/ });
  t.throws(() => resolveConfig({ dataDir: dir, risk: { beta: [1] } }), { code: 'E_CONFIG', message: /risk\.beta/ });
  t.throws(() => parseBeta('{"model":"other","beta":[1,2,3,4,5]}'), { code: 'E_CONFIG', message: /song-logistic/ });
  t.throws(() => parseBeta('{"model":"song-logistic","beta":[1,2,3]}'), { code: 'E_CONFIG', message: /5 finite/ });
  t.throws(() => parseBeta('nope'), { code: 'E_CONFIG' });
  t.throws(() => alertOptionsOf(resolveConfig({ dataDir: dir, risk: { betaFile: 'missing.json' } }, {}, dir)), { code: 'E_CONFIG' });
});
