/**
 * Seeded synthetic signals for tests, benches and simulations: a small PRNG
 * (mulberry32), Gaussian noise and log-distance RSSI with shadowing.
 */
import { attenuationAt, DEFAULT_PATH_LOSS, type PathLossModel } from './distance.ts';

export type Rng = () => number;

/** mulberry32: fast 32-bit seeded PRNG in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box–Muller). */
export function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** RSSI a receiver would read at `meters` from a sender of `txPower`, with shadowing. */
export function syntheticRssi(rng: Rng, meters: number, txPower: number, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  return Math.round(txPower - attenuationAt(meters, model) + model.sigma * gaussian(rng));
}
