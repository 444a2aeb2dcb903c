/**
 * Proximity figures on the shared recordings: the agent's estimator (run
 * through `replay`, the code of `beepkit proximity replay`) against the
 * single-reading Exposure Notification rule, per sample and per pair, with
 * leave-one-dataset-out thresholds.
 */
import { replay } from '@beepkit/agent/proximity';
import { ProximityEstimator, proximityConfig, type ProximityConfig } from '@beepkit/device-core/proximity';
import { calibrate, loadModelTable, type ModelTable } from '@beepkit/device-core/rssi';
import type { TraceRow } from '@beepkit/agent/proximity';
import type { Dataset, LabelledRow } from './data.ts';

export interface Scores {
  ba: number;
  precision: number;
  recall: number;
  threshold: number;
}

/** Balanced accuracy, precision and recall of `x <= T` for the truth `y`. */
export function score(x: ArrayLike<number>, y: ArrayLike<number | boolean>, T: number): Scores {
  let tp = 0,
    fp = 0,
    fn = 0,
    tn = 0;
  for (let i = 0; i < y.length; i++) {
    const p = x[i] <= T;
    if (y[i]) {
      if (p) tp++;
      else fn++;
    } else if (p) fp++;
    else tn++;
  }
  const tpr = tp / Math.max(1, tp + fn);
  const tnr = tn / Math.max(1, tn + fp);
  return { ba: (tpr + tnr) / 2, precision: tp / Math.max(1, tp + fp), recall: tpr, threshold: T };
}

const GRID = Array.from({ length: 141 }, (_, i) => i - 20);

/** The threshold maximising the mean balanced accuracy over the given sets (each set weighs the same). */
export function tune(sets: { x: ArrayLike<number>; y: ArrayLike<number | boolean> }[]): number {
  let best = GRID[0];
  let bestBa = -1;
  for (const T of GRID) {
    const m = sets.reduce((a, s) => a + score(s.x, s.y, T).ba, 0) / sets.length;
    if (m > bestBa) {
      bestBa = m;
      best = T;
    }
  }
  return best;
}

/**
 * `model`: Google's table only. `unit`: plus one 1 m correction per recording (optimistic: it also absorbs that
 * session's standing fade, body position and place). `device`: plus one 1 m correction per receiving device,
 * pooled over all its recordings (what a calibration made once beforehand can know).
 */
export type Calibration = 'model' | 'unit' | 'device';
export const CALIBRATIONS = ['model', 'unit', 'device'] as const;

/** Whether a row is a 1 m calibration sample (unitCorrections takes these, and only these). */
export const isCalibrationSample = (r: LabelledRow): boolean => Math.abs(r.distance - 1) <= 0.1;

/**
 * The receiving unit: in these recordings each receiver model is one physical device (Herald's named phones,
 * pc-ng's four phones, elanfer's one Pi 4), recorded in several sessions, positions and places.
 */
export const deviceOf = (r: LabelledRow): string => r.rx_model;

/**
 * The unit's correction as `beepkit agent calibrate` makes it: 1 m reads 50 dB (the median of the 0.9–1.1 m
 * samples), keyed by the recording's receiver id; `by` 'recording' takes each recording's own samples, 'device'
 * pools every recording of the receiving device (its sessions, peers, body positions and places).
 */
export function unitCorrections(rows: LabelledRow[], table: ModelTable, by: 'recording' | 'device' = 'recording'): Map<string, number> {
  const unitOf = by === 'device' ? deviceOf : (r: LabelledRow): string => r.rx;
  const at1m = new Map<string, number[]>();
  for (const r of rows) {
    if (!isCalibrationSample(r)) continue;
    const att = table.lookup(r.tx_model).txPower - (r.rssi + table.lookup(r.rx_model).rssiCorrection);
    (at1m.get(unitOf(r)) ?? at1m.set(unitOf(r), []).get(unitOf(r))!).push(att);
  }
  // the agent's own calibration (src/rssi/calibration.ts): a 1 m reference whose attenuation should read 50 dB,
  // i.e. RSSI samples −attenuation expected at −50; no spread refusal (pooled sessions are noisier than one beacon)
  const perUnit = new Map<string, number>();
  for (const [u, v] of at1m)
    perUnit.set(
      u,
      calibrate(
        v.map((a) => -a),
        { expectedRssiAt1m: -50, minSamples: 1, maxSpreadDb: Infinity },
      ).correction,
    );
  const out = new Map<string, number>();
  for (const r of rows) if (perUnit.has(unitOf(r))) out.set(r.rx, perUnit.get(unitOf(r))!);
  return out;
}

export interface Evaluated {
  name: string;
  timed: boolean;
  /** Per calibration: raw EN attenuation and the estimator's statistic, per row. */
  att: Record<Calibration, Float64Array>;
  est: Record<Calibration, Float64Array>;
  /** The estimator's statistic for the variants compared in the bench (VARIANTS), per calibration. */
  variants: Record<string, Record<Calibration, Float64Array>>;
  truth: Record<'2' | '1.5', Uint8Array>;
  /** 1 where a row is not one of the 0.9–1.1 m samples its receiver's unit calibration was taken from (held out). */
  heldOut: Uint8Array;
  rows: LabelledRow[];
  calibratedReceivers: number;
  receivers: number;
}

function traceRows(rows: LabelledRow[], table: ModelTable, unit?: Map<string, number>): TraceRow[] {
  return rows.map((r, i) => ({
    row: i,
    line: i + 2,
    time: r.time,
    rssi: r.rssi,
    rx: r.rx,
    tx: r.tx,
    rxModel: r.rx_model,
    txModel: r.tx_model,
    ...(unit ? { rssiCorrection: table.lookup(r.rx_model).rssiCorrection + (unit.get(r.rx) ?? 0) } : {}),
  }));
}

/**
 * Estimator variants measured beside the shipped one (agent/README.md "Proximity"): the agent's
 * ProximityEstimator with other settings, fed each pair's replayed attenuations in time order
 * (what the pipeline feeds it), so the 2 M Herald rows are replayed once per calibration only.
 */
const FIVE_MIN = { windowMs: 300_000, maxSamples: 128, release: null };
export const VARIANTS: Record<string, Partial<ProximityConfig>> = {
  q20_5min: { ...FIVE_MIN, quantiles: [{ q: 0.2, w: 1 }] },
  q10_5min: { ...FIVE_MIN, quantiles: [{ q: 0.1, w: 1 }] },
  median_5min: { ...FIVE_MIN, quantiles: [{ q: 0.5, w: 1 }] },
  /** the default until 2026-12-03 (evening) */
  blend_5min: {
    ...FIVE_MIN,
    quantiles: [
      { q: 0.1, w: 0.75 },
      { q: 0.5, w: 0.25 },
    ],
  },
  q10_30min_512: { quantiles: [{ q: 0.1, w: 1 }], windowMs: 1_800_000, maxSamples: 512, release: null },
  /** the shipped estimator without its release */
  q15_30min_1024: { release: null },
};

function variant(rows: LabelledRow[], att: Float64Array, c: Partial<ProximityConfig>): Float64Array {
  const out = new Float64Array(rows.length).fill(Infinity);
  const cfg = proximityConfig(c);
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].time - rows[b].time || a - b);
  const peers = new Map<string, ProximityEstimator>();
  for (const i of order) {
    if (!Number.isFinite(att[i])) continue;
    const k = `${rows[i].rx}|${rows[i].tx}`;
    const p = peers.get(k) ?? peers.set(k, new ProximityEstimator(cfg)).get(k)!;
    p.update(rows[i].time * 1000, att[i]);
    out[i] = p.estimate;
  }
  return out;
}

export function evaluate(d: Dataset, table = loadModelTable()): Evaluated {
  const corrections = { unit: unitCorrections(d.rows, table), device: unitCorrections(d.rows, table, 'device') };
  const unit = corrections.unit;
  const att = {} as Record<Calibration, Float64Array>;
  const est = {} as Record<Calibration, Float64Array>;
  const variants: Record<string, Record<Calibration, Float64Array>> = {};
  for (const cal of CALIBRATIONS) {
    const r = replay(traceRows(d.rows, table, cal === 'model' ? undefined : corrections[cal]), { table });
    att[cal] = Float64Array.from(r.rows, (x) => x.attenuation ?? Infinity);
    est[cal] = Float64Array.from(r.rows, (x) => x.estimate ?? Infinity);
    for (const [name, c] of Object.entries(VARIANTS)) (variants[name] ??= {} as Record<Calibration, Float64Array>)[cal] = variant(d.rows, att[cal], c);
  }
  return {
    name: d.name,
    timed: d.timed,
    att,
    est,
    variants,
    rows: d.rows,
    calibratedReceivers: unit.size,
    receivers: new Set(d.rows.map((r) => r.rx)).size,
    heldOut: Uint8Array.from(d.rows, (r) => +!(isCalibrationSample(r) && corrections.device.has(r.rx))),
    truth: { '2': Uint8Array.from(d.rows, (r) => +(r.distance <= 2)), '1.5': Uint8Array.from(d.rows, (r) => +(r.distance <= 1.5)) },
  };
}

/** Minutes within `meters` per pair (truth) and minutes with `x <= T`, credited as the EncounterLog does (gap to the pair's previous sample, ≤ 5 min). */
export function pairMinutes(e: Evaluated, x: ArrayLike<number>, T: number, meters: number): { truth: number; predicted: number }[] {
  const byPair = new Map<string, number[]>();
  e.rows.forEach((r, i) => (byPair.get(`${r.rx}|${r.tx}`) ?? byPair.set(`${r.rx}|${r.tx}`, []).get(`${r.rx}|${r.tx}`)!).push(i));
  const out: { truth: number; predicted: number }[] = [];
  for (const idx of byPair.values()) {
    idx.sort((a, b) => e.rows[a].time - e.rows[b].time || a - b);
    let truth = 0;
    let predicted = 0;
    for (let k = 1; k < idx.length; k++) {
      const gap = (e.rows[idx[k]].time - e.rows[idx[k - 1]].time) / 60;
      if (gap > 5) continue;
      if (e.rows[idx[k]].distance <= meters) truth += gap;
      if (x[idx[k]] <= T) predicted += gap;
    }
    out.push({ truth, predicted });
  }
  return out;
}

/** Pair-level precision and recall of "≥ 15 min within the distance". */
export function pairScores(p: { truth: number; predicted: number }[]): { precision: number; recall: number; pairs: number; positives: number } {
  let tp = 0,
    fp = 0,
    fn = 0;
  for (const x of p) {
    const y = x.truth >= 15;
    const q = x.predicted >= 15;
    if (y && q) tp++;
    else if (q) fp++;
    else if (y) fn++;
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), pairs: p.length, positives: tp + fn };
}

/** The rows of `x` where `mask` is 1 (held-out scoring). */
export function pick<T extends Float64Array | Uint8Array>(x: T, mask: Uint8Array): T {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  const out = new (x.constructor as new (n: number) => T)(n);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i]) out[j++] = x[i];
  return out;
}
