// The one `beepkit` command. Each workspace contributes its subcommands through
// `@beepkit/<ws>/cli`, which exports `register(program: Command): void`.
// The imports are static strings (not a template) so that scripts/build.mjs can
// bundle them, each workspace into its own chunk.
import { Command, CommanderError } from 'commander';

type CliModule = { register?: (p: Command) => void };

/** Every workspace's cli module, in registration (help) order. */
export const WORKSPACE_CLIS: Readonly<Record<string, () => Promise<CliModule>>> = {
  protocol: () => import('@beepkit/protocol/cli'),
  'firmware-stubs': () => import('@beepkit/firmware-stubs/cli'),
  agent: () => import('@beepkit/agent/cli'),
  beacon: () => import('@beepkit/beacon/cli'),
  wearable: () => import('@beepkit/wearable/cli'),
  gateway: () => import('@beepkit/gateway/cli'),
  trial: () => import('@beepkit/trial/cli'),
};

/**
 * Top-level command → the workspace that registers it. Only a shortcut: a
 * command found here loads that workspace's cli alone (an agent does not load
 * the gateway, the sim or the field trial); anything else (help, --version, a
 * command missing here) loads them all. hil-tests/test/prebuilt.test.ts checks
 * it against what the workspaces register.
 */
export const COMMAND_WORKSPACE: Readonly<Record<string, string>> = {
  keys: 'protocol',
  tracecode: 'protocol',
  ble: 'protocol',
  nmea: 'protocol',
  sim: 'firmware-stubs',
  agent: 'agent',
  proximity: 'agent',
  doctor: 'agent',
  beacon: 'beacon',
  wearable: 'wearable',
  ledger: 'gateway',
  gateway: 'gateway',
  diagnose: 'gateway',
  risk: 'gateway',
  solver: 'gateway',
  venue: 'gateway',
  demo: 'trial',
};

/** The workspaces whose cli modules `beepkit <argv…>` needs. */
export function workspacesFor(argv: string[]): string[] {
  const first = argv[2];
  return first !== undefined && Object.hasOwn(COMMAND_WORKSPACE, first) ? [COMMAND_WORKSPACE[first]] : Object.keys(WORKSPACE_CLIS);
}

/**
 * BEEPKIT_EXIT_WITH_PARENT=1 (set by the field trial and the HIL suites for their children): when the
 * parent dies (even by SIGKILL) the process is re-parented; it then stops as on SIGTERM, so no agent,
 * wearable or gateway child outlives a killed trial.
 */
export function exitWithParent(env: NodeJS.ProcessEnv = process.env, everyMs = 1000): void {
  if (env.BEEPKIT_EXIT_WITH_PARENT !== '1') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, everyMs);
  timer.unref();
}

export async function main(argv: string[]): Promise<number> {
  exitWithParent();
  const program = new Command('beepkit')
    .description('BLE/GNSS field kit and device agent for privacy-preserving contact tracing')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const ws of workspacesFor(argv)) (await WORKSPACE_CLIS[ws]()).register?.(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // 2: a command's own usage error (beepkit doctor); else commander's 64
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : err.exitCode === 2 ? 2 : 64;
    throw err;
  }
}
