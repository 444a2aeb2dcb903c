/**
 * The carer suite through the real-rig path: a sim started here, its rig.yaml given to
 * `npm run hil -- --rig … --real --suite carer` as a bench of serial paths (the stubs'
 * PTYs, no control API). The wearable and its carer are placed side by side first (as
 * on a bench). Pairing (wrong code refused, right code), the alert naming the person and
 * the revocation must pass; the sync step passes or is skipped with its reason.
 * (The virtual rig runs the suite in hil-virtual.test.ts with the other CI suites.)
 */
import t from 'tap';
import { join } from 'node:path';
import { loadScenarioFile } from '@beepkit/firmware-stubs/scenario';
import { Sim } from '@beepkit/firmware-stubs/sim';
import { runHil } from './hil-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.setTimeout(400_000);

t.test('carer suite through --rig <sim rig.yaml> --real', { timeout: 400_000 }, async (t) => {
  const dir = t.testdir();
  const sim = new Sim({
    scenario: loadScenarioFile(new URL('../../firmware-stubs/scenarios/cafe.yaml', import.meta.url).pathname),
    dir,
    controlPort: 0,
    speed: 12,
    startTime: hostNow(),
  });
  await sim.start();
  t.teardown(() => sim.stop());
  // the bench: Grace's wearable next to Dave's kit, a metre from the Harbour View lounge beacon
  sim.move('grace', { x: -48, y: 121 });
  sim.move('dave', { x: -47, y: 122 });
  const t0 = hostNow();
  const { code, out } = await runHil(['--rig', join(dir, 'rig.yaml'), '--real', '--suite', 'carer'], 360_000);
  t.comment(
    `${((hostNow() - t0) / 1000).toFixed(1)} s\n` +
      out
        .split('\n')
        .filter((l) => /^suite |ok|FAIL|skip|passed,|^ {4}/.test(l))
        .join('\n'),
  );
  t.match(out, /rig: .*\(real, 5 devices, 2 venues\)/, 'read as a real rig');
  t.match(out, /no control API: the wearable and its carer are where the rig has them/);
  t.match(out, /ok {4}pairing: a wrong code is refused \(403 E_CODE\), nothing transferred; the right code pairs both sides/);
  t.match(out, /wrong code refused: carer lists none, wearable not paired/);
  t.match(
    out,
    /(ok {4}sync: .*|skip {2}sync: .*: the sync completed .*scenario clock at ×12 with no clock URL for the wearable.* so it had nothing to deliver)/,
    'sync passes or says why there was nothing to deliver',
  );
  t.match(out, /ok {4}alert: a notification for the wearable's fingerprint alerts the carer naming the person/);
  t.match(out, /alert \d+ ms after the publish: Grace: /);
  t.match(out, /ok {4}revocation: /);
  t.match(out, /suite carer: PASSED/);
  t.equal(out.trim().split('\n').at(-1), '1 passed, 0 failed, 0 skipped');
  t.equal(code, 0);
});
