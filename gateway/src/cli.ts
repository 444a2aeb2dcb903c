import type { Command } from 'commander';
import { registerLedger } from './ledger/cli.ts';
import { registerGateway } from './app/cli.ts';
import { registerSolving } from './solver/cli.ts';

/** Adds this workspace's subcommands to the `beepkit` program. */
export function register(program: Command): void {
  registerLedger(program);
  registerGateway(program);
  registerSolving(program);
}
