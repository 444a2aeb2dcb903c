/**
 * The radio model of the simulated air, as pure functions: log-distance path
 * loss with log-normal shadowing, receiver sensitivity, scan duty cycle, and
 * a seeded RNG. No timers, no I/O.
 */

export interface RadioParams {
  /** Path loss at the 1 m reference distance, dB (free space at 2.4 GHz ≈ 40). */
  refLossDb: number;
  /** Path-loss exponent n (2 = free space, 2.5–3.5 indoors). */
  exponent: number;
  /** Standard deviation of the per-packet log-normal shadowing, dB. */
  shadowingSigmaDb: number;
  /** Receiver sensitivity, dBm: packets below it are not received. */
  sensitivityDbm: number;
}

export const DEFAULT_RADIO: RadioParams = {
  refLossDb: 40,
  exponent: 2.2,
  shadowingSigmaDb: 4,
  sensitivityDbm: -95,
};

/** Distances below this are clamped (near field; keeps log10 finite). */
export const MIN_DISTANCE_M = 0.1;

/** Mean received power (dBm) at `distance` metres: Ptx − PL(1 m) − 10·n·log10(d). */
export function expectedRssi(txPowerDbm: number, distanceM: number, p: Pick<RadioParams, 'refLossDb' | 'exponent'> = DEFAULT_RADIO): number {
  const d = Math.max(MIN_DISTANCE_M, distanceM);
  return txPowerDbm - p.refLossDb - 10 * p.exponent * Math.log10(d);
}

/** The band a received RSSI falls in with ±k σ of shadowing (before integer rounding). */
export function rssiBand(txPowerDbm: number, distanceM: number, p: RadioParams = DEFAULT_RADIO, k = 3): { mean: number; lo: number; hi: number } {
  const mean = expectedRssi(txPowerDbm, distanceM, p);
  return { mean, lo: mean - k * p.shadowingSigmaDb, hi: mean + k * p.shadowingSigmaDb };
}

/** Distance (m) at which the mean RSSI equals the sensitivity. */
export function rangeM(txPowerDbm: number, p: RadioParams = DEFAULT_RADIO): number {
  return 10 ** ((txPowerDbm - p.refLossDb - p.sensitivityDbm) / (10 * p.exponent));
}

/** Clamp to a valid HCI RSSI (int8, −127…+20) after rounding. */
export function toHciRssi(dbm: number): number {
  return Math.max(-127, Math.min(20, Math.round(dbm)));
}

/** Whether an event at time `t` (ms) falls into the scan window of a scanner started at `t0`. */
export function inScanWindow(t: number, t0: number, intervalMs: number, windowMs: number): boolean {
  if (windowMs >= intervalMs) return true;
  const phase = (((t - t0) % intervalMs) + intervalMs) % intervalMs;
  return phase < windowMs;
}

/** Small, fast, seeded PRNG (mulberry32) with a Gaussian helper. */
export class Rng {
  private s: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box–Muller, caches the second value). */
  gauss(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
