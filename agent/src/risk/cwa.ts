/**
 * Attenuation-weighted duration risk (Corona-Warn-App v2 style). Per exposure
 * window: drop it when it has < 5 min below 79 dB; otherwise weighted minutes
 * = Σ minutes in bucket × weight (0.8 below 63 dB, 1.0 for 63–73, 0.1 for
 * 73–79, 0 at ≥ 79). Per UTC day: high at ≥ 13 weighted minutes, low when > 0.
 * Everything configurable; pure.
 */
import { BeepkitError } from '@beepkit/protocol/errors';

export type RiskLevel = 'low' | 'high';

export interface CwaConfig {
  /** Ascending bucket edges in dB; bucket i is [edges[i-1], edges[i]). */
  bucketEdges: number[];
  /** One weight per bucket (edges.length + 1). */
  weights: number[];
  /** Windows with fewer than `dropIfMinutesBelow` minutes under `dropAttenuationDb` are dropped. */
  dropAttenuationDb: number;
  dropIfMinutesBelow: number;
  /** A day is high risk at or above this many weighted minutes. */
  highAtMinutes: number;
}

export const CWA_DEFAULTS: CwaConfig = {
  bucketEdges: [63, 73, 79],
  weights: [0.8, 1.0, 0.1, 0],
  dropAttenuationDb: 79,
  dropIfMinutesBelow: 5,
  highAtMinutes: 13,
};

export interface WindowInput {
  start: number;
  minAttenuation: number;
  msByBucket: number[];
}

export interface DayRisk {
  day: number;
  level: RiskLevel | undefined;
  weightedMinutes: number;
  /** Minutes below the drop threshold in the windows kept. */
  minutes: number;
  /** Lowest attenuation seen in the windows kept (dB). */
  minAttenuation: number;
  windowsKept: number;
  windowsDropped: number;
}

export function cwaConfig(partial: Partial<CwaConfig> = {}): CwaConfig {
  const c = { ...CWA_DEFAULTS, ...partial };
  if (c.weights.length !== c.bucketEdges.length + 1)
    throw new BeepkitError('E_CONFIG', `risk: need ${c.bucketEdges.length + 1} weights, got ${c.weights.length}`);
  if (c.bucketEdges.some((e, i) => i > 0 && e <= c.bucketEdges[i - 1])) throw new BeepkitError('E_CONFIG', 'risk: bucket edges must ascend');
  return c;
}

/** Weighted minutes of one window, or undefined when the drop rule removes it. */
export function windowWeightedMinutes(w: WindowInput, c: CwaConfig = CWA_DEFAULTS): { weighted: number; minutes: number } | undefined {
  if (w.msByBucket.length !== c.weights.length)
    throw new BeepkitError('E_RANGE', `risk: window has ${w.msByBucket.length} buckets, config ${c.weights.length}`);
  let below = 0;
  let weighted = 0;
  for (let i = 0; i < w.msByBucket.length; i++) {
    const min = w.msByBucket[i] / 60_000;
    if (i < c.bucketEdges.length && c.bucketEdges[i] <= c.dropAttenuationDb) below += min;
    weighted += min * c.weights[i];
  }
  if (below < c.dropIfMinutesBelow) return undefined;
  return { weighted, minutes: below };
}

/** Aggregates windows per UTC day of their start. Days are sorted ascending. */
export function dayRisks(windows: WindowInput[], c: CwaConfig = CWA_DEFAULTS): DayRisk[] {
  const days = new Map<number, DayRisk>();
  for (const w of windows) {
    const day = Math.floor(w.start / 86_400_000);
    let d = days.get(day);
    if (!d) days.set(day, (d = { day, level: undefined, weightedMinutes: 0, minutes: 0, minAttenuation: Infinity, windowsKept: 0, windowsDropped: 0 }));
    const r = windowWeightedMinutes(w, c);
    if (!r) {
      d.windowsDropped++;
      continue;
    }
    d.windowsKept++;
    d.weightedMinutes += r.weighted;
    d.minutes += r.minutes;
    d.minAttenuation = Math.min(d.minAttenuation, w.minAttenuation);
  }
  for (const d of days.values()) d.level = d.weightedMinutes >= c.highAtMinutes ? 'high' : d.weightedMinutes > 0 ? 'low' : undefined;
  return [...days.values()].sort((a, b) => a.day - b.day);
}
