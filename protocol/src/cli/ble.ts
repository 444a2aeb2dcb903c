import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '../errors.ts';
import { fromHex } from '../bytes.ts';
import { advertToJson, decodeAdvert } from '../frames/index.ts';

/** Parses advertising-data hex (optional 0x prefix; spaces and colons ignored) and returns the decoded JSON view. */
export function decodeAdvertHex(hex: string): Record<string, unknown> {
  const clean = hex.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length === 0) throw new BeepkitError('E_FORMAT', 'advert: empty hex');
  return advertToJson(decodeAdvert(fromHex(clean, 'advert hex')));
}

/** `beepkit ble decode <hex>`: one JSON object on stdout; on malformed input exit code 2 and {code,message} on stderr. */
export function registerBle(program: Command): void {
  const ble = program.command('ble').description('Bluetooth LE beacon frames: decode advertising data');
  ble
    .command('decode')
    .description('decode advertising data (AD structures, as in an LE Advertising Report) given as hex; prints one JSON object with its kind')
    .argument('<hex>', 'advertising data as hex, e.g. 0201061aff4c000215…')
    .action((hex: string) => {
      try {
        process.stdout.write(JSON.stringify(decodeAdvertHex(hex)) + '\n');
      } catch (err) {
        const e = isBeepkitError(err) ? err : new BeepkitError('E_FORMAT', String(err));
        process.stderr.write(JSON.stringify(e.toJSON()) + '\n');
        process.exitCode = 2;
      }
    });
}
