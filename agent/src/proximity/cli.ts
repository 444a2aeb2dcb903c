/**
 * `beepkit proximity replay [--calibration <csv>] [--threshold-m N] <trace.csv>`:
 * JSON lines on stdout, one per data row in input order, then one per pair.
 * Errors: one JSON line {code, message, line?} on stderr, exit 2.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { loadModelTable } from '@beepkit/device-core/rssi';
import { thresholdDb } from '@beepkit/device-core/proximity';
import { parseTrace } from './trace.ts';
import { replay } from './replay.ts';

async function write(chunk: string): Promise<void> {
  if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

export async function replayCommand(file: string, o: { calibration?: string; thresholdM?: string }): Promise<void> {
  const thresholdM = o.thresholdM === undefined ? 2 : Number(o.thresholdM);
  try {
    thresholdDb(thresholdM);
  } catch {
    throw new BeepkitError('E_CONFIG', `--threshold-m: a distance in (0, 100] metres, got ${JSON.stringify(o.thresholdM)}`);
  }
  const table = loadModelTable(o.calibration);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_IO', `trace ${file} cannot be read: ${(cause as Error).message}`, { cause });
  }
  const r = replay(parseTrace(text), { thresholdM, table });
  let buf = '';
  for (const x of r.rows) {
    buf += `{"row":${x.row},"close":${x.close},"attenuation":${x.attenuation === null ? 'null' : x.attenuation}}\n`;
    if (buf.length > 1 << 16) {
      await write(buf);
      buf = '';
    }
  }
  for (const p of r.pairs) buf += JSON.stringify(p) + '\n';
  await write(buf);
  if (r.unavailable)
    process.stderr.write(
      JSON.stringify({ rows: r.rows.length, unavailable: r.unavailable, note: 'RSSI 127 or outside -127..20 dBm: counted, answered close:false' }) + '\n',
    );
}

export function registerProximity(program: Command): void {
  const prox = program.command('proximity').description('proximity estimation on recorded traces (agent/README.md "Proximity")');
  prox
    .command('replay')
    .description("run a recorded RSSI trace through the agent's own pipeline, estimator, encounter windows, buckets and risk")
    .argument('<trace.csv>', 'CSV: time (Unix s), rssi (dBm), rx, tx; optional rx_model, tx_model, tx_power, rssi_correction')
    .option('--calibration <csv>', 'per-model calibration table (default: the shipped EN table of 2020-12-14)')
    .option('--threshold-m <m>', '"close" means within this many metres', '2')
    .action(async (file: string, o: { calibration?: string; thresholdM?: string }) => {
      try {
        await replayCommand(file, o);
      } catch (err) {
        const e = isBeepkitError(err) ? err : new BeepkitError('E_IO', String((err as Error)?.message ?? err));
        process.stderr.write(JSON.stringify(e.toJSON()) + '\n');
        process.exitCode = 2;
      }
    });
}
