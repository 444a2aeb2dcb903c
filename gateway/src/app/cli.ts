/** `beepkit gateway …` commands (run, venue add|list|revoke, diagnostician add). */
import type { Command } from 'commander';

export function registerGateway(program: Command): void {
  program.command('gateway').description('MQTT gateway: ingest, CA, notification feed');
}
