/**
 * `beepkit sim`: runs a scenario on the virtual hardware. Prints one JSON line
 * per hosted device on stdout, logs to stderr, stops on SIGINT/SIGTERM or
 * after --duration real seconds. Invalid scenario → E_CONFIG message, exit 2.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { isBeepkitError } from '@beepkit/protocol';
import { loadScenarioFile } from './scenario/load.ts';
import { Sim } from './sim/sim.ts';
import { hostNow } from '@beepkit/protocol/clock';

/** The shipped scenarios (firmware-stubs/scenarios). */
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

type Level = 'info' | 'warn' | 'error' | 'debug';
function stderrLogger(verbose: boolean) {
  const at =
    (level: Level) =>
    (...a: unknown[]) => {
      if (level === 'debug' && !verbose) return;
      const obj = typeof a[0] === 'object' && a[0] !== null ? a[0] : {};
      const msg = a.find((x) => typeof x === 'string') ?? '';
      process.stderr.write(JSON.stringify({ level, time: new Date(hostNow()).toISOString(), msg, ...obj }) + '\n');
    };
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

function listScenarios(): void {
  for (const f of readdirSync(SCENARIO_DIR)
    .filter((x) => x.endsWith('.yaml'))
    .sort()) {
    const file = join(SCENARIO_DIR, f);
    try {
      const sc = loadScenarioFile(file);
      const hosted = sc.devices.filter((d) => !d.hostless).length;
      process.stdout.write(
        `${sc.name.padEnd(12)} ${file}\n  ${sc.description} (${hosted} devices, ${sc.devices.length - hosted} crowd, ${sc.duration} s at ×${sc.speed})\n`,
      );
    } catch (e) {
      process.stdout.write(`${f.padEnd(12)} ${file}\n  invalid: ${(e as Error).message}\n`);
    }
  }
}

function positive(name: string, allowZero = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
    return n;
  };
}

interface SimCliOptions {
  list?: boolean;
  btsnoop?: string;
  speed?: number;
  dir?: string;
  controlPort?: number;
  duration?: number;
  verbose?: boolean;
}

async function runSim(file: string | undefined, o: SimCliOptions): Promise<number> {
  if (o.list) {
    listScenarios();
    return 0;
  }
  if (!file) {
    process.stderr.write('beepkit sim: a scenario file is required (or --list)\n');
    return 2;
  }
  let scenario;
  try {
    scenario = loadScenarioFile(resolve(file));
  } catch (e) {
    if (isBeepkitError(e)) {
      process.stderr.write(`beepkit sim: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const ownDir = !o.dir;
  const dir = o.dir ? resolve(o.dir) : mkdtempSync(join(tmpdir(), 'beepkit-sim-'));
  mkdirSync(dir, { recursive: true });
  const logger = stderrLogger(!!o.verbose);
  const sim = new Sim({ scenario, dir, speed: o.speed, controlPort: o.controlPort, logger, ...(o.btsnoop ? { btsnoop: resolve(o.btsnoop) } : {}) });
  try {
    await sim.start();
  } catch (e) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`beepkit sim: ${isBeepkitError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
    return isBeepkitError(e) && e.code === 'E_CONFIG' ? 2 : 1;
  }
  for (const line of sim.deviceLines()) process.stdout.write(JSON.stringify(line) + '\n');
  logger.info({ rig: sim.rigFile, control: sim.controlPort, dir }, 'sim running');
  let cleanup = (): void => {};
  const reason = await new Promise<string>((done) => {
    const int = () => done('SIGINT');
    const term = () => done('SIGTERM');
    process.once('SIGINT', int);
    process.once('SIGTERM', term);
    const timer = o.duration !== undefined ? setTimeout(() => done('duration'), o.duration * 1000) : undefined;
    cleanup = () => {
      process.removeListener('SIGINT', int);
      process.removeListener('SIGTERM', term);
      if (timer) clearTimeout(timer);
    };
  });
  cleanup();
  await sim.stop();
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  logger.info({ reason }, 'sim stopped');
  return 0;
}

/** Adds this workspace's subcommands to the `beepkit` program. */
export function register(program: Command): void {
  program
    .command('sim')
    .description('run a scenario on the virtual hardware (GNSS receivers and BLE controllers on PTYs, one simulated air)')
    .argument('[scenario]', 'scenario YAML file (see --list)')
    .option('--list', 'list the shipped scenarios and exit')
    .option('--speed <n>', "scenario seconds per real second (default: the scenario's speed)", positive('--speed'))
    .option('--dir <dir>', 'directory for GNSS links and rig.yaml (default: a fresh temp dir, removed at exit)')
    .addOption(new Option('--control-port <port>', 'control API port on 127.0.0.1 (JSON over HTTP)').argParser(positive('--control-port', true)))
    .option('--duration <s>', 'stop after this many real seconds', positive('--duration'))
    .option('--btsnoop <file>', "write every hosted controller's HCI traffic to a btsnoop capture (Wireshark, btmon -r)")
    .option('-v, --verbose', 'debug logging')
    .action(async (file: string | undefined, o: SimCliOptions) => {
      process.exitCode = await runSim(file, o);
    });
}
