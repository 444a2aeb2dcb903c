/**
 * A scenario device's recorded RSSI (`rssiTrace`, issue 15): the rows of one
 * (rx, tx) pair of a `beepkit proximity replay` trace CSV (time in Unix s,
 * rssi in dBm), reported by the air to the device that hears it, at scenario
 * time startAt + (time − the pair's first time).
 */
import { readFileSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';
import type { RssiTrack } from '../air/trace.ts';

export interface RssiTraceSpec {
  /** The trace CSV (columns by name: time, rssi, rx, tx). */
  file: string;
  /** Id of the scenario device that hears this one with the recorded RSSI. */
  heardBy: string;
  /** Scenario second at which the pair's first row is reported (default 0). */
  startAt: number;
  /** The pair to take (default: the trace's only pair). */
  rx?: string;
  tx?: string;
}

/** The track of one spec on the air's clock (ms): E_CONFIG when the file or its pair is unusable. */
export function loadRssiTrack(spec: RssiTraceSpec, txAirId: string, rxAirId: string, startTimeMs: number): RssiTrack {
  let text: string;
  try {
    text = readFileSync(spec.file, 'utf8');
  } catch (err) {
    throw new BeepkitError('E_CONFIG', `rssiTrace ${spec.file}: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const head = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const [ti, ri, rxi, txi] = ['time', 'rssi', 'rx', 'tx'].map((c) => head.indexOf(c));
  if (ti < 0 || ri < 0 || rxi < 0 || txi < 0) throw new BeepkitError('E_CONFIG', `rssiTrace ${spec.file}: needs the columns time, rssi, rx, tx`);
  const rows = lines.slice(1).map((l, i) => {
    const f = l.split(',').map((s) => s.trim());
    const time = Number(f[ti]);
    const rssi = Number(f[ri]);
    if (!Number.isFinite(time) || !Number.isFinite(rssi))
      throw new BeepkitError('E_CONFIG', `rssiTrace ${spec.file} line ${i + 2}: time and rssi must be numbers`);
    return { time, rssi, rx: f[rxi], tx: f[txi] };
  });
  const pairs = new Set(rows.map((r) => `${r.rx}|${r.tx}`));
  const want = spec.rx !== undefined || spec.tx !== undefined ? `${spec.rx}|${spec.tx}` : pairs.size === 1 ? [...pairs][0] : undefined;
  if (want === undefined || !pairs.has(want)) throw new BeepkitError('E_CONFIG', `rssiTrace ${spec.file}: name one of its ${pairs.size} pairs (rx and tx)`);
  const mine = rows.filter((r) => `${r.rx}|${r.tx}` === want).sort((a, b) => a.time - b.time);
  const t0 = mine[0].time;
  return { tx: txAirId, rx: rxAirId, samples: mine.map((r) => ({ atMs: startTimeMs + spec.startAt * 1000 + (r.time - t0) * 1000, rssi: r.rssi })) };
}
