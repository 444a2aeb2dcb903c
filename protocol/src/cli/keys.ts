import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '../errors.ts';
import { fromHex, toHex } from '../bytes.ts';
import { DEFAULT_METADATA, bleAddresses, deriveAems, deriveRpis, formatBleAddress } from '../rpi/index.ts';

/** Prints a coded error as JSON on stderr and sets exit code 2 (bad input). */
export function failWith(err: unknown): void {
  const e = isBeepkitError(err) ? err : new BeepkitError('E_FORMAT', String((err as Error)?.message ?? err));
  process.stderr.write(JSON.stringify(e.toJSON()) + '\n');
  process.exitCode = 2;
}

function parseUint(s: string, what: string, max = 0xffffffff): number {
  if (!/^\d+$/.test(s) || Number(s) > max) throw new BeepkitError('E_FORMAT', `${what}: expected an integer 0..${max}, got ${JSON.stringify(s)}`);
  return Number(s);
}

function hexOf(s: string, len: number, what: string): Uint8Array {
  const b = fromHex(s, what);
  if (b.length !== len) throw new BeepkitError('E_FORMAT', `${what}: expected ${len * 2} hex digits, got ${s.length}`);
  return b;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('key schedule and Exposure Notification rolling identifiers');
  keys
    .command('rpi')
    .description('derive EN rolling proximity identifiers and AEMs from a TEK; prints "<enin> <rpi hex> <aem hex>" per line')
    .requiredOption('--tek <hex>', 'temporary exposure key, 32 hex digits')
    .requiredOption('--enin <n>', 'first EN interval number (floor(unix seconds / 600))')
    .option('--count <k>', 'number of consecutive intervals', '1')
    .option('--metadata <hex>', 'AEM metadata, 8 hex digits (default 40000000: version 1.0, TX power 0 dBm)')
    .option('--address', 'also print the beepkit per-interval BLE private address as a fourth column')
    .action((o: { tek: string; enin: string; count: string; metadata?: string; address?: boolean }) => {
      try {
        const tek = hexOf(o.tek, 16, '--tek');
        const enin = parseUint(o.enin, '--enin');
        const count = parseUint(o.count, '--count', 100_000);
        if (count < 1 || enin + count - 1 > 0xffffffff) throw new BeepkitError('E_RANGE', '--count out of range');
        const metadata = o.metadata === undefined ? DEFAULT_METADATA : hexOf(o.metadata, 4, '--metadata');
        const rpis = deriveRpis(tek, enin, count);
        const aems = deriveAems(tek, rpis, metadata);
        const addrs = o.address ? bleAddresses(tek, rpis) : undefined;
        const lines: string[] = [];
        for (let i = 0; i < count; i++) {
          let line = `${enin + i} ${toHex(rpis.subarray(i * 16, i * 16 + 16))} ${toHex(aems.subarray(i * 4, i * 4 + 4))}`;
          if (addrs) line += ` ${formatBleAddress(addrs.subarray(i * 6, i * 6 + 6))}`;
          lines.push(line);
        }
        process.stdout.write(lines.join('\n') + '\n');
      } catch (err) {
        failWith(err);
      }
    });
}
