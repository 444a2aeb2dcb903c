import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FieldTrial, type DemoOptions } from './demo/index.ts';

interface DemoFlags {
  scenario: string;
  speed?: string;
  short?: boolean;
  keepRunning?: boolean;
  broker?: string;
  dashboardPort?: string;
  dataDir?: string;
  btsnoop?: string;
  chain?: string;
  keepChain?: boolean;
}

function num(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw Object.assign(new Error(`--${name}: must be a number in ${min}..${max}, got ${v}`), { code: 'E_CONFIG' });
  return n;
}

function chainOf(v: string): 'anvil' {
  if (v !== 'anvil') throw Object.assign(new Error(`--chain: only anvil runs here, got ${v}`), { code: 'E_CONFIG' });
  return v;
}

/** Runs the demo; resolves with its exit code (0: the outcome matches the scenario). */
export async function runDemo(flags: DemoFlags): Promise<number> {
  let opts: DemoOptions;
  try {
    opts = {
      scenario: flags.scenario,
      short: !!flags.short,
      keepRunning: !!flags.keepRunning,
      broker: flags.broker,
      dataDir: flags.dataDir,
      ...(flags.btsnoop ? { btsnoop: resolve(flags.btsnoop) } : {}),
      speed: num(flags.speed, 'speed', 1, 600),
      dashboardPort: num(flags.dashboardPort, 'dashboard-port', 0, 65535),
      ...(flags.chain !== undefined ? { chain: chainOf(flags.chain) } : {}),
      keepChain: !!flags.keepChain,
    };
    if (flags.keepChain && !flags.chain) throw Object.assign(new Error('--keep-chain needs --chain anvil'), { code: 'E_CONFIG' });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 64;
  }
  let trial: FieldTrial;
  try {
    trial = new FieldTrial(opts);
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    return 2;
  }
  let interrupted = false;
  let wake: (() => void) | undefined;
  const onSignal = (sig: string): void => {
    if (interrupted) return;
    interrupted = true;
    process.stdout.write(`\n${sig}: stopping the field trial…\n`);
    wake?.();
    void trial.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  try {
    const r = await trial.run();
    code = interrupted ? 130 : r.code;
    if (opts.keepRunning && !interrupted) {
      process.stdout.write(`\nkeeping everything up (dashboard ${trial.dashboard?.url ?? '-'}); Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => void trial.observe().catch(() => {}), 1000);
        wake = () => {
          clearInterval(tick);
          resolve();
        };
      });
    }
  } finally {
    await trial.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}

/** Adds this workspace's subcommands to the `beepkit` program. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('the complete field trial on virtual radios: sim, gateway (broker, CA, ledger), agents, diagnosis, solver, alerts')
    .option('--scenario <name|file>', 'scenario name (firmware-stubs/scenarios) or file', 'cafe')
    .option('--speed <n>', "scenario seconds per real second (default: the scenario's; --short: at least 60)")
    .option('--short', 'CI mode: faster, timing-sensitive details advisory')
    .option('--keep-running', 'keep everything up after the summary until Ctrl-C')
    .option('--broker <url>', 'use this MQTT broker instead of the embedded one')
    .option('--dashboard-port <port>', 'dashboard port (default: a free one)')
    .option('--data-dir <dir>', 'keep the run here (default: a temporary directory, removed at the end)')
    .option(
      '--chain <anvil>',
      "anchor the gateway's ledger on a local EVM chain: starts anvil (npm), deploys the registries, admits the gateway; prints 'anchored N tree head(s) …'",
    )
    .option(
      '--keep-chain',
      'with --chain: keep anvil running and the data dir at the end; prints the RPC URL, the contract addresses and the gateway ledger path',
    )
    .option('--btsnoop <file>', "write every virtual controller's HCI traffic to a btsnoop capture (Wireshark, btmon -r)")
    .action(async (flags: DemoFlags) => {
      const code = await runDemo(flags);
      process.exitCode = code;
      // everything is stopped; leave even if a library left a handle behind
      setTimeout(() => process.exit(code), 3000).unref();
    });
}
