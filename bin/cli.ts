// The one `beepkit` command. Each workspace contributes its subcommands through
// `@beepkit/<ws>/cli`, which exports `register(program: Command): void`.
import { Command, CommanderError } from 'commander';

const WORKSPACES = ['protocol', 'firmware-stubs', 'agent', 'beacon', 'wearable', 'gateway', 'hil-tests'] as const;

export async function main(argv: string[]): Promise<number> {
  const program = new Command('beepkit')
    .description('BLE/GNSS field kit and device agent for privacy-preserving contact tracing')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const ws of WORKSPACES) {
    const mod = (await import(`@beepkit/${ws}/cli`)) as { register?: (p: Command) => void };
    mod.register?.(program);
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 64;
    throw err;
  }
}
