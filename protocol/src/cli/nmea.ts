import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { decodeNmeaLog, fixToJson } from '../nmea/index.ts';

async function readInput(file: string | undefined): Promise<string> {
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('latin1');
  }
  return readFile(file, 'latin1');
}

/** `beepkit nmea …`: NMEA 0183 tools. */
export function registerNmea(program: Command): void {
  const nmea = program.command('nmea').description('NMEA 0183 (GNSS receiver output) tools');
  nmea
    .command('decode')
    .description('decode captured NMEA (comments allowed, "# Date:" honoured like gpsd) into one JSON line per epoch')
    .argument('[file]', 'NMEA log file, or - for stdin', '-')
    .option('--date <YYYY-MM-DD>', 'reference date for time-only sentences before any RMC/ZDA date')
    .option('--rejects', 'also report rejected lines on stderr', false)
    .action(async (file: string, opts: { date?: string; rejects: boolean }) => {
      let text: string;
      try {
        text = await readInput(file);
      } catch (e) {
        process.stderr.write(`beepkit nmea decode: cannot read ${file}: ${(e as Error).message}\n`);
        process.exitCode = 66;
        return;
      }
      const { fixes, rejects } = decodeNmeaLog(text, { date: opts.date });
      const out = fixes.filter((f) => f.time !== undefined).map((f) => JSON.stringify(fixToJson(f)) + '\n');
      process.stdout.write(out.join(''));
      if (opts.rejects) for (const r of rejects) process.stderr.write(`${r.code} ${r.message}: ${r.line}\n`);
      process.exitCode = 0;
    });
}
