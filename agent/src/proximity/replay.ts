/**
 * `beepkit proximity replay`: a trace through the agent's own code. Each
 * receiver is an agent: its ScanPipeline (RSSI filter, proximity estimator,
 * EncounterLog with its exposure windows and attenuation buckets), each of its
 * peers one EN advert stream; then the CWA risk of each pair's windows.
 */
import { createHash } from 'node:crypto';
import { encodeAdvert } from '@beepkit/protocol/frames';
import { toHex } from '@beepkit/protocol/bytes';
import { ScanPipeline } from '@beepkit/device-core/scan';
import { EncounterLog } from '@beepkit/device-core/encounters';
import { dayRisks, CWA_DEFAULTS } from '../risk/cwa.ts';
import { loadModelTable, type ModelTable } from '@beepkit/device-core/rssi';
import type { TraceRow } from './trace.ts';
import type { ProximityConfig } from '@beepkit/device-core/proximity';

export interface RowResult {
  row: number;
  close: boolean;
  /** EN attenuation of this sample (dB), null when its RSSI is not a reading. */
  attenuation: number | null;
  /** The estimator's statistic (dB) behind `close` (not printed by the CLI; the bench sweeps thresholds over it). */
  estimate?: number;
}

export interface PairSummary {
  pair: { rx: string; tx: string };
  minutes: { close: number; total: number };
  /** Minutes per attenuation bucket (CWA edges 63, 73, 79 dB). */
  buckets: number[];
  risk: 'high' | 'low' | 'none';
  samples: { total: number; unavailable: number };
}

export interface ReplayOptions {
  /** Metres (default 2). */
  thresholdM?: number;
  table?: ModelTable;
  /** The estimator's settings (default: the agent's, PROXIMITY_DEFAULTS); the bench compares variants with it. */
  proximity?: Partial<Omit<ProximityConfig, 'thresholdM'>>;
}

/** True for an RSSI the agent's pipeline takes as a reading (127 is HCI's "not available"). */
export const isReading = (rssi: number): boolean => Number.isFinite(rssi) && rssi >= -127 && rssi <= 20;

const round = (x: number): number => Math.round(x * 1000) / 1000;

export function replay(rows: readonly TraceRow[], o: ReplayOptions = {}): { rows: RowResult[]; pairs: PairSummary[]; unavailable: number } {
  const table = o.table ?? loadModelTable();
  const results: RowResult[] = rows.map((r) => ({ row: r.row, close: false, attenuation: null }));
  // one agent per receiver (and per RSSI correction, should a trace change it mid-way)
  const agents = new Map<string, { pipeline: ScanPipeline; log: EncounterLog }>();
  // pairs in the order of their first row in the input; each peer is one RPI (and one advert's bytes)
  const pairs = new Map<string, { rx: string; tx: string; rpi: Uint8Array; data: Uint8Array; logs: Set<EncounterLog>; total: number; unavailable: number }>();
  for (const r of rows) {
    const pairKey = JSON.stringify([r.rx, r.tx]);
    if (pairs.has(pairKey)) continue;
    const rpi = new Uint8Array(createHash('sha256').update(pairKey).digest().subarray(0, 16));
    const data = encodeAdvert({ kind: 'exposure-notification', rpi, aem: new Uint8Array(4), flags: 0x1a });
    pairs.set(pairKey, { rx: r.rx, tx: r.tx, rpi, data, logs: new Set(), total: 0, unavailable: 0 });
  }
  let txPower = 0;
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].time - rows[b].time || a - b);
  let unavailable = 0;
  for (const i of order) {
    const r = rows[i];
    const corr = r.rssiCorrection ?? table.lookup(r.rxModel).rssiCorrection;
    const agentKey = JSON.stringify([r.rx, corr]);
    let agent = agents.get(agentKey);
    if (!agent) {
      const log = new EncounterLog({ retentionMs: Infinity });
      agent = {
        log,
        pipeline: new ScanPipeline({
          rssiCorrection: corr,
          encounters: log,
          enTxPower: () => txPower,
          proximity: { ...o.proximity, thresholdM: o.thresholdM ?? 2 },
        }),
      };
      agents.set(agentKey, agent);
    }
    const pair = pairs.get(JSON.stringify([r.rx, r.tx]))!;
    pair.logs.add(agent.log);
    pair.total++;
    txPower = r.txPower ?? table.lookup(r.txModel).txPower;
    if (!isReading(r.rssi)) {
      pair.unavailable++;
      unavailable++;
      continue;
    }
    const kind = agent.pipeline.push({
      address: 'c0:00:00:00:00:01',
      addressType: 'random',
      rssi: r.rssi,
      connectable: false,
      receivedAt: r.time * 1000,
      data: pair.data,
    });
    const p = agent.pipeline.peer(toHex(pair.rpi));
    if (kind === 'exposure-notification' && p)
      results[i] = { row: r.row, close: p.close ?? false, attenuation: round(p.rawAttenuation ?? NaN), estimate: p.proximity?.estimate };
  }
  const summaries: PairSummary[] = [];
  for (const pair of pairs.values()) {
    const windows = [...pair.logs].flatMap((l) => l.get(toHex(pair.rpi))?.windows ?? []);
    const buckets = new Array<number>(CWA_DEFAULTS.weights.length).fill(0);
    let close = 0;
    for (const w of windows) {
      w.msByBucket.forEach((ms, b) => (buckets[b] += ms));
      close += w.msClose ?? 0;
    }
    const levels = dayRisks(windows, CWA_DEFAULTS).map((d) => d.level);
    const risk = levels.includes('high') ? 'high' : levels.includes('low') ? 'low' : 'none';
    const total = buckets.reduce((a, b) => a + b, 0);
    summaries.push({
      pair: { rx: pair.rx, tx: pair.tx },
      minutes: { close: round(close / 60_000), total: round(total / 60_000) },
      buckets: buckets.map((ms) => round(ms / 60_000)),
      risk,
      samples: { total: pair.total, unavailable: pair.unavailable },
    });
  }
  return { rows: results, pairs: summaries, unavailable };
}
