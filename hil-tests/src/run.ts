/**
 * `npm run hil [-- --rig file] [--suite name…] [--real] [--scenario name] [--speed N] [--start T] [--dir D] [--minutes N]`
 * Without --rig: starts the virtual rig in-process (Sim with the café scenario,
 * or the crowd for `--suite soak`), writing its rig file, and uses its control API.
 * Its scenario clock starts at 09:00 UTC of the host's day, as the field trial's does,
 * whatever the host hour (every component takes the scenario clock), or at `--start`
 * (ISO 8601 UTC, or `now`). A start late in the day runs the trial across midnight:
 * agents then need a certificate for the new day, which the CA gives only with venue
 * evidence of that day (see agent/README "Certificates").
 * `--suite soak` alone: the crowd with a plaza venue, a UTC midnight half way
 * through `--minutes` (default 30), TraceCodes every minute.
 * Prints per-suite results and `N passed, N failed, N skipped`; exit 1 on a failure.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isBeepkitError } from '@beepkit/protocol';
import { loadScenarioFile } from '@beepkit/firmware-stubs/scenario';
import { Sim, defaultStartTime } from '@beepkit/firmware-stubs/sim';
import { asRealRig, loadRig, type Rig } from './rig/index.ts';
import { HilContext } from './hil/context.ts';
import { runSuite, summaryLine, type SuiteResult } from './hil/runner.ts';
import { AFTER_ALL, SUITES } from './suites/index.ts';
import { SOAK_MINUTES, SOAK_TC_INTERVAL_MS, soakScenario, soakStartTime } from './suites/soak.ts';
import { hostNow } from '@beepkit/protocol/clock';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const print = (l: string): void => {
  process.stdout.write(l + '\n');
};

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rig: { type: 'string' },
      suite: { type: 'string', multiple: true },
      real: { type: 'boolean' },
      scenario: { type: 'string' },
      speed: { type: 'string' },
      start: { type: 'string' },
      dir: { type: 'string' },
      minutes: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    print('usage: npm run hil [-- --rig file] [--suite name…] [--real] [--scenario name] [--speed N] [--start ISO|now] [--dir D] [--minutes N (soak)]');
    print("  --start: the scenario clock's start (default 09:00 UTC of the host's day; the soak suite: half its minutes before midnight)");
    print(`suites: ${SUITES.map((s) => `${s.name}${s.ci ? '' : ' (outside CI)'}`).join(', ')}`);
    return 0;
  }
  const named = values.suite ?? [];
  for (const n of named)
    if (!SUITES.some((s) => s.name === n)) {
      print(`E_CONFIG: unknown suite ${n} (have ${SUITES.map((s) => s.name).join(', ')})`);
      return 2;
    }
  const minutes = values.minutes === undefined ? SOAK_MINUTES : Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) {
    print(`E_CONFIG: --minutes must be a whole number of minutes in 1..1440, got ${values.minutes}`);
    return 2;
  }
  const start = values.start === undefined ? undefined : values.start === 'now' ? hostNow() : Date.parse(values.start);
  if (start !== undefined && !Number.isFinite(start)) {
    print(`E_CONFIG: --start must be an ISO 8601 time (2028-02-29T23:50:00Z) or now, got ${values.start}`);
    return 2;
  }
  const soakOnly = named.length === 1 && named[0] === 'soak';
  const base = values.dir ? resolve(values.dir) : mkdtempSync(join(tmpdir(), 'beepkit-hil-'));
  mkdirSync(base, { recursive: true });
  let sim: Sim | undefined;
  let ctx: HilContext | undefined;
  const results: SuiteResult[] = [];
  try {
    let rig: Rig;
    if (values.rig) {
      rig = loadRig(values.rig);
      if (values.real) rig = asRealRig(rig);
      print(`rig: ${values.rig} (${rig.kind}, ${rig.devices.length} devices, ${rig.venues.length} venues${rig.control ? ', control API' : ''})`);
    } else {
      const scenario = values.scenario ?? (soakOnly ? 'crowd' : 'cafe');
      const file = scenario.includes('/') ? resolve(scenario) : join(ROOT, 'firmware-stubs', 'scenarios', `${scenario}.yaml`);
      const sc = soakOnly ? soakScenario(file) : loadScenarioFile(file);
      mkdirSync(join(base, 'sim'), { recursive: true });
      const speed = values.speed ? Number(values.speed) : undefined;
      const startTime = start ?? (soakOnly ? soakStartTime(hostNow(), minutes, speed) : defaultStartTime(hostNow()));
      sim = new Sim({ scenario: sc, dir: join(base, 'sim'), controlPort: 0, startTime, ...(speed !== undefined ? { speed } : {}) });
      await sim.start();
      sim.pause();
      rig = loadRig(join(base, 'sim', 'rig.yaml'));
      print(`rig: virtual (scenario ${sc.name} ×${sim.clock.speed}, rig file ${join(base, 'sim', 'rig.yaml')}, paused until the agents are up)`);
    }
    const s0 = sim;
    const c = new HilContext({
      rig,
      dir: join(base, 'run'),
      print,
      onAgentsReady: () => s0?.resume(),
      soakMinutes: minutes,
      ...(soakOnly ? { tracecodeIntervalMs: SOAK_TC_INTERVAL_MS } : {}),
    });
    ctx = c;
    const onSignal = (): void => {
      print('interrupted: stopping agents, gateway and sim');
      void c
        .stop()
        .finally(() => s0?.stop())
        .finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await ctx.start();
    print(`gateway: broker ${ctx.gateway.brokerUrl}${rig.broker ? '' : ' (embedded)'}, CA with ${rig.venues.length} venue(s)`);
    for (const s of SUITES) {
      if (named.length && !named.includes(s.name)) continue;
      if (!s.ci && !named.includes(s.name)) {
        results.push({ name: s.name, status: 'skipped', reason: `${s.name} runs outside CI (--suite ${s.name})`, steps: [], ms: 0 });
        print(`suite ${s.name}: SKIPPED (${s.name} runs outside CI)`);
        continue;
      }
      results.push(await runSuite(s, ctx, print));
    }
    // judged over the whole run by the virtual controllers: only where a sim's control API is (a real rig has none)
    if (ctx.control) for (const s of AFTER_ALL) results.push(await runSuite(s, ctx, print));
  } catch (e) {
    print(`error: ${isBeepkitError(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
    results.push({ name: '(setup)', status: 'failed', reason: (e as Error).message, steps: [], ms: 0 });
  } finally {
    await ctx?.stop().catch(() => {});
    await sim?.stop().catch(() => {});
    if (!values.dir) rmSync(base, { recursive: true, force: true });
  }
  print(summaryLine(results));
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      print(`error: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
