/**
 * Per-peer RSSI filters: Hampel outlier rejection, a scalar Kalman filter and
 * an exponential low-pass. Pure, allocation-free per sample (state lives in
 * the filter objects created once per peer).
 */
import { BeepkitError } from '@beepkit/protocol';

/** 1-D Kalman filter for a slowly varying level (random-walk process). */
export class Kalman1D {
  private x = 0;
  private p = 0;
  private init = false;
  /** @param q process noise variance (dB²/sample), @param r measurement noise variance (dB²) */
  constructor(
    readonly q = 0.5,
    readonly r = 16,
  ) {
    if (!(q >= 0) || !(r > 0)) throw new BeepkitError('E_CONFIG', `kalman: bad q=${q} r=${r}`);
  }
  update(z: number): number {
    if (!this.init) {
      this.x = z;
      this.p = this.r;
      this.init = true;
      return z;
    }
    const pp = this.p + this.q;
    const k = pp / (pp + this.r);
    this.x += k * (z - this.x);
    this.p = (1 - k) * pp;
    return this.x;
  }
  get value(): number {
    return this.x;
  }
  /** Estimate variance (dB²). */
  get variance(): number {
    return this.p;
  }
  reset(): void {
    this.init = false;
  }
}

/** First-order low-pass (exponential moving average). */
export class LowPass {
  private x = 0;
  private init = false;
  constructor(readonly alpha = 0.25) {
    if (!(alpha > 0 && alpha <= 1)) throw new BeepkitError('E_CONFIG', `lowpass: alpha must be in (0,1], got ${alpha}`);
  }
  update(z: number): number {
    if (!this.init) {
      this.x = z;
      this.init = true;
    } else this.x += this.alpha * (z - this.x);
    return this.x;
  }
  get value(): number {
    return this.x;
  }
  reset(): void {
    this.init = false;
  }
}

/** Shared scratch space for medians; filters are used from one thread. */
let scratch = new Float64Array(64);

function medianOf(src: Float64Array, n: number): number {
  if (scratch.length < n) scratch = new Float64Array(n * 2);
  const s = scratch;
  for (let i = 0; i < n; i++) {
    // insertion sort: windows are small (≤ ~15)
    const v = src[i];
    let j = i - 1;
    while (j >= 0 && s[j] > v) {
      s[j + 1] = s[j];
      j--;
    }
    s[j + 1] = v;
  }
  return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Causal Hampel filter: a sample further than k·1.4826·MAD from the median of
 * the last `window` raw samples is an outlier and replaced by that median. Needs `minSamples` history before it rejects anything.
 */
export class Hampel {
  private readonly buf: Float64Array;
  private readonly dev: Float64Array;
  private n = 0;
  private head = 0;
  outliers = 0;
  lastWasOutlier = false;
  constructor(
    readonly window = 11,
    readonly k = 3.5,
    readonly minSamples = 4,
    /** MAD floor in dB so a flat series does not reject ordinary jitter. */
    readonly madFloor = 1,
  ) {
    if (!Number.isInteger(window) || window < 3) throw new BeepkitError('E_CONFIG', `hampel: window must be an integer >= 3, got ${window}`);
    this.buf = new Float64Array(window);
    this.dev = new Float64Array(window);
  }
  update(z: number): number {
    let out = z;
    this.lastWasOutlier = false;
    if (this.n >= this.minSamples) {
      const med = medianOf(this.buf, this.n);
      for (let i = 0; i < this.n; i++) this.dev[i] = Math.abs(this.buf[i] - med);
      const mad = Math.max(1.4826 * medianOf(this.dev, this.n), this.madFloor);
      if (Math.abs(z - med) > this.k * mad) {
        out = med;
        this.outliers++;
        this.lastWasOutlier = true;
      }
    }
    this.buf[this.head] = z;
    this.head = (this.head + 1) % this.window;
    if (this.n < this.window) this.n++;
    return out;
  }
  reset(): void {
    this.n = 0;
    this.head = 0;
    this.outliers = 0;
    this.lastWasOutlier = false;
  }
}

export interface RssiFilterConfig {
  /** Outlier rejection; null disables it. */
  outlier?: { window: number; k: number } | null;
  smoother?: 'kalman' | 'lowpass' | 'none';
  kalman?: { q: number; r: number };
  lowpass?: { alpha: number };
}

export const DEFAULT_FILTER: Required<RssiFilterConfig> = {
  outlier: { window: 11, k: 3.5 },
  smoother: 'kalman',
  kalman: { q: 0.5, r: 16 },
  lowpass: { alpha: 0.25 },
};

/** Outlier rejection followed by smoothing, as one per-peer object. */
export class RssiFilter {
  private readonly hampel: Hampel | null;
  private readonly smooth: Kalman1D | LowPass | null;
  value = NaN;
  samples = 0;
  constructor(cfg: RssiFilterConfig = {}) {
    const c = { ...DEFAULT_FILTER, ...cfg };
    this.hampel = c.outlier ? new Hampel(c.outlier.window, c.outlier.k) : null;
    this.smooth = c.smoother === 'kalman' ? new Kalman1D(c.kalman.q, c.kalman.r) : c.smoother === 'lowpass' ? new LowPass(c.lowpass.alpha) : null;
  }
  update(rssi: number): number {
    const clean = this.hampel ? this.hampel.update(rssi) : rssi;
    this.value = this.smooth ? this.smooth.update(clean) : clean;
    this.samples++;
    return this.value;
  }
  get outliers(): number {
    return this.hampel?.outliers ?? 0;
  }
  get lastWasOutlier(): boolean {
    return this.hampel?.lastWasOutlier ?? false;
  }
}
