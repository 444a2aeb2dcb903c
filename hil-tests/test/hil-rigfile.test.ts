/**
 * The real-rig path: a sim started here, its rig.yaml given to `npm run hil -- --rig
 * … --real` as a bench of serial paths (the stubs' PTYs): no control API, so the
 * virtual-only steps are skipped with their reasons and everything else runs.
 * The suites whose steps differ on a real rig (sensing, trust, uplink) run here; the
 * notification and carer suites are the same on both paths and run in hil-virtual
 * (and hil-carer, through a rig file), which keeps this file near five minutes of CI.
 */
import t from 'tap';
import { join } from 'node:path';
import { loadScenarioFile } from '@beepkit/firmware-stubs/scenario';
import { Sim } from '@beepkit/firmware-stubs/sim';
import { runHil } from './hil-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const RIG_SUITES = ['sensing', 'trust', 'uplink'];

// the whole file runs longer than the default per-file timeout
t.setTimeout(900_000);

t.test('the suites through --rig <sim rig.yaml> treated as a real rig', { timeout: 900_000 }, async (t) => {
  const dir = t.testdir();
  // slower than the café's ×30: the agents join a running scenario (a bench is never paused)
  const sim = new Sim({
    scenario: loadScenarioFile(new URL('../../firmware-stubs/scenarios/cafe.yaml', import.meta.url).pathname),
    dir,
    controlPort: 0,
    speed: 12,
    startTime: hostNow(),
  });
  await sim.start();
  t.teardown(() => sim.stop());
  const { code, out } = await runHil(['--rig', join(dir, 'rig.yaml'), '--real', ...RIG_SUITES.flatMap((s) => ['--suite', s])], 840_000);
  t.comment(
    out
      .split('\n')
      .filter((l) => /^suite |FAIL|skip|passed,|^ {4}(in venues|patient|solver|sync):/.test(l))
      .join('\n'),
  );
  t.match(out, /rig: .*\(real, 5 devices, 2 venues\)/, 'read as a real rig');
  t.match(out, /skip {2}RSSI ordering by distance .*: needs the control API or fixed device positions/, 'RSSI step skipped with its reason');
  t.match(out, /skip {2}on the air: GNSS spoofing .*: needs the control API/, 'on-air spoofing skipped with its reason');
  t.match(out, /skip {2}GNSS unplug .*: needs the control API/, 'unplug skipped with its reason');
  t.match(out, /skip {2}HCI controller reset.*: needs the control API/, 'controller reset skipped with its reason');
  t.match(out, /ok {4}GNSS fixes arrive on every agent device/);
  t.match(out, /ok {4}CA: forged venue frame \(wrong key\) refused/);
  t.match(out, /ok {4}agent kill -9 and restart/);
  t.match(out, /ok {4}exactly once/);
  const summary = out.trim().split('\n').at(-1) ?? '';
  t.match(summary, /^\d+ passed, 0 failed, \d+ skipped$/, 'summary line, nothing failed');
  t.equal(code, 0);
});
