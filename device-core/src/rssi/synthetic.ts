/**
 * Seeded synthetic signals for tests, benches and simulations: a small PRNG
 * (mulberry32), Gaussian noise and log-distance RSSI with shadowing.
 */
import { attenuationAt, DEFAULT_PATH_LOSS, type PathLossModel } from './distance.ts';

export { mulberry32, gaussian, type Rng } from '@beepkit/protocol/rng';
import { gaussian, type Rng } from '@beepkit/protocol/rng';

/** RSSI a receiver would read at `meters` from a sender of `txPower`, with shadowing. */
export function syntheticRssi(rng: Rng, meters: number, txPower: number, model: PathLossModel = DEFAULT_PATH_LOSS): number {
  return Math.round(txPower - attenuationAt(meters, model) + model.sigma * gaussian(rng));
}
