/**
 * The DecryptPool's worker boot: from the bundle (a .js chunk in dist/) it imports the compiled
 * dist/pool-worker.js, no tsx (an installed kit has none); from the sources it registers tsx first.
 * scripts/pack-check.sh loads the packed dist/pool-worker.js in a worker thread.
 */
import t from 'tap';
import { workerBoot } from '../src/solver/pool.ts';

t.test('bundle: the compiled worker next to the chunk, without tsx', async (t) => {
  const boot = workerBoot('/opt/beepkit/lib/node_modules/beepkit/dist/chunk-AB12CD34.js');
  t.equal(boot, 'import("file:///opt/beepkit/lib/node_modules/beepkit/dist/pool-worker.js")');
  t.notMatch(boot, /tsx/);
});

t.test('sources: tsx registered, then the TypeScript worker', async (t) => {
  const boot = workerBoot('/repo/gateway/src/solver/pool.ts');
  t.match(boot, /tsx/);
  t.match(boot, /pool-worker\.ts/);
  t.equal(workerBoot(), boot, 'by default the module itself, a .ts under tsx: the sources');
});
