/**
 * Attenuation and log-distance path-loss model:
 *   attenuation = txPower − (rssi + correction)
 *   attenuation(d) = a1m + 10·n·log10(d / 1 m) + X,  X ~ N(0, σ²) (shadowing)
 */
import { BeepkitError } from '@beepkit/protocol';

export interface PathLossModel {
  /** Attenuation at 1 m, dB. */
  a1m: number;
  /** Path-loss exponent (2 free space, 2–4 indoors). */
  n: number;
  /** Shadowing standard deviation, dB. */
  sigma: number;
}

export const DEFAULT_PATH_LOSS: PathLossModel = { a1m: 50, n: 2.5, sigma: 4 };

/** EN/GAEN attenuation in dB. `correction` is the receiver's RSSI correction (dB). */
export function attenuation(txPower: number, rssi: number, correction = 0): number {
  return txPower - (rssi + correction);
}

/** Expected attenuation at `meters` (no shadowing). */
export function attenuationAt(meters: number, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  if (!(meters > 0)) throw new BeepkitError('E_RANGE', `distance must be > 0, got ${meters}`);
  return model.a1m + 10 * model.n * Math.log10(meters);
}

export interface DistanceEstimate {
  /** Median distance estimate, metres. */
  meters: number;
  /** 1-σ interval (log-normal), metres. */
  low: number;
  high: number;
  /** σ used, dB. */
  sigmaDb: number;
}

/**
 * Distance from attenuation. `extraVarianceDb2` adds the filter's estimate
 * variance to the shadowing variance.
 */
export function estimateDistance(att: number, model: PathLossModel = DEFAULT_PATH_LOSS, extraVarianceDb2 = 0): DistanceEstimate {
  const s = Math.sqrt(model.sigma * model.sigma + Math.max(0, extraVarianceDb2));
  const k = 10 * model.n;
  const meters = 10 ** ((att - model.a1m) / k);
  return { meters, low: 10 ** ((att - s - model.a1m) / k), high: 10 ** ((att + s - model.a1m) / k), sigmaDb: s };
}

/** Same as estimateDistance(...).meters without allocating (hot path). */
export function distanceMeters(att: number, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  return 10 ** ((att - model.a1m) / (10 * model.n));
}
