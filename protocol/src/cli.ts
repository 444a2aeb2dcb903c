import type { Command } from 'commander';
import { registerKeys } from './cli/keys.ts';
import { registerTracecode } from './cli/tracecode.ts';
import { registerBle } from './cli/ble.ts';
import { registerNmea } from './cli/nmea.ts';

/** Adds the protocol subcommands (keys, tracecode, ble, nmea) to the `beepkit` program. */
export function register(program: Command): void {
  registerKeys(program);
  registerTracecode(program);
  registerBle(program);
  registerNmea(program);
}
