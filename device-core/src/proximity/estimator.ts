/**
 * The agent's proximity decision ("within 2 m?"), one per EN sample, shared by
 * the scan pipeline in the field and `beepkit proximity replay`.
 *
 * What the recordings taught (agent/README.md "Proximity"): bodies, pockets
 * and fading only ever add loss, so the strongest recent readings of a peer
 * are the best evidence of its distance: the peer's EN attenuations over the
 * last 5 minutes (causal; at most 128 samples). The estimate is a blend of
 * two quantiles of that window, 0.75 × the 10th percentile + 0.25 × the
 * median (the median damps a single lucky reading), compared with a threshold
 * tuned on the shared recordings. Variants measured leave-one-dataset-out
 * (agent/README.md "Proximity") are kept as options for the bench.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface ProximityConfig {
  /** Samples older than this (ms) leave the window. */
  windowMs: number;
  /** The estimate: sum of weight × quantile (0..1) of the window's attenuations; weights sum to 1. */
  quantiles: readonly { q: number; w: number }[];
  /** The window keeps at most this many (the most recent) samples. */
  maxSamples: number;
  /** Distance asked for, metres (thresholds are known for 1.5 and 2). */
  thresholdM: number;
}

/**
 * Attenuation thresholds (dB, EN definition with the model calibration of the
 * 2020-12-14 table and a unit calibration putting 1 m at 50 dB) tuned on the
 * three shared recordings (mean balanced accuracy over the datasets; `npm run bench -- proximity`,
 * metric all_<m>m_estimator_threshold_all_data, run of 2026-12-03).
 */
export const TUNED_THRESHOLDS_DB: Readonly<Record<string, number>> = { '2': 51, '1.5': 50 };

export const PROXIMITY_DEFAULTS: ProximityConfig = {
  windowMs: 300_000,
  quantiles: [
    { q: 0.1, w: 0.75 },
    { q: 0.5, w: 0.25 },
  ],
  maxSamples: 128,
  thresholdM: 2,
};

/** The attenuation threshold for a distance: tuned for 1.5 m and 2 m; other distances by the kit's path-loss slope (25 dB/decade) from 2 m. */
export function thresholdDb(meters: number): number {
  if (!(meters > 0 && meters <= 100)) throw new BeepkitError('E_RANGE', `proximity: threshold distance must be in (0, 100] m, got ${meters}`);
  const tuned = TUNED_THRESHOLDS_DB[String(meters)];
  return tuned ?? TUNED_THRESHOLDS_DB['2'] + 25 * Math.log10(meters / 2);
}

export function proximityConfig(partial: Partial<ProximityConfig> = {}): ProximityConfig & { thresholdDb: number } {
  const c = { ...PROXIMITY_DEFAULTS, ...partial };
  const wsum = Array.isArray(c.quantiles) ? c.quantiles.reduce((a, x) => a + x.w, 0) : NaN;
  const qok = Array.isArray(c.quantiles) && c.quantiles.length > 0 && c.quantiles.every((x) => x.q >= 0 && x.q <= 1 && x.w >= 0) && Math.abs(wsum - 1) < 1e-9;
  if (!(c.windowMs > 0) || !qok || !Number.isInteger(c.maxSamples) || c.maxSamples < 1) {
    throw new BeepkitError('E_CONFIG', 'proximity: windowMs > 0, quantiles {q in 0..1, w >= 0} with weights summing to 1, maxSamples a positive integer');
  }
  return { ...c, thresholdDb: thresholdDb(c.thresholdM) };
}

let scratch = new Float64Array(128);

/** Per-peer window of recent attenuations; `update` returns the decision for the sample just added. */
export class ProximityEstimator {
  private at: Float64Array;
  private att: Float64Array;
  private head = 0;
  private n = 0;
  /** The last estimate (dB) and decision. */
  estimate = NaN;
  close = false;

  constructor(private readonly c: ProximityConfig & { thresholdDb: number }) {
    const cap = Math.min(16, c.maxSamples);
    this.at = new Float64Array(cap);
    this.att = new Float64Array(cap);
  }

  private grow(): void {
    const cap = Math.min(this.c.maxSamples, this.at.length * 2);
    const at = new Float64Array(cap);
    const att = new Float64Array(cap);
    for (let i = 0; i < this.n; i++) {
      const j = (this.head - this.n + i + this.at.length) % this.at.length;
      at[i] = this.at[j];
      att[i] = this.att[j];
    }
    this.at = at;
    this.att = att;
    this.head = this.n % cap;
  }

  /** Adds one sample (ms, dB; time non-decreasing per peer) and decides. NaN attenuation: not close, not added. */
  update(atMs: number, attenuation: number): boolean {
    if (!Number.isFinite(attenuation) || !Number.isFinite(atMs)) {
      this.close = false;
      return false;
    }
    if (this.n === this.at.length && this.at.length < this.c.maxSamples) this.grow();
    const cap = this.at.length;
    this.at[this.head] = atMs;
    this.att[this.head] = attenuation;
    this.head = (this.head + 1) % cap;
    if (this.n < cap) this.n++;
    // drop samples that left the time window (the oldest first)
    while (this.n > 1 && this.at[(this.head - this.n + cap) % cap] < atMs - this.c.windowMs) this.n--;
    if (scratch.length < this.n) scratch = new Float64Array(this.n * 2);
    const s = scratch;
    for (let i = 0; i < this.n; i++) {
      const v = this.att[(this.head - this.n + i + cap) % cap];
      let j = i - 1;
      while (j >= 0 && s[j] > v) {
        s[j + 1] = s[j];
        j--;
      }
      s[j + 1] = v;
    }
    let e = 0;
    for (const { q, w } of this.c.quantiles) e += w * s[Math.min(this.n - 1, Math.floor(q * this.n))];
    this.estimate = e;
    this.close = this.estimate <= this.c.thresholdDb;
    return this.close;
  }
}
