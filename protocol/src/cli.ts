import type { Command } from 'commander';

/** Adds this workspace's subcommands to the `beepkit` program. */
export function register(_program: Command): void {}
