/**
 * Song et al. logistic infection probability:
 *   P = 1 / (1 + e^-(β0 + β1·RSSI + β2·ΔtB + β3·ΔtC + β4·ms))
 * RSSI in dBm, ΔtB (Bluetooth contact time) and ΔtC (check-in gap |ti − tj|)
 * in minutes, ms the surface material's virus residual time in hours (the
 * paper's table). β comes from configuration (fitted elsewhere by IRLS).
 */
import { BeepkitError } from '../errors.ts';

export const MATERIAL_HOURS = { aerosol: 3, copper: 4, cardboard: 24, other: 30, stainlessSteel: 48, plastic: 72 } as const;
export type Material = keyof typeof MATERIAL_HOURS;

export type Beta = readonly [number, number, number, number, number];

export interface LogisticInput {
  rssi: number;
  contactMinutes: number;
  checkInGapMinutes: number;
  material: Material | number;
}

export function infectionProbability(x: LogisticInput, beta: Beta): number {
  if (beta.length !== 5 || beta.some((b) => !Number.isFinite(b))) throw new BeepkitError('E_CONFIG', 'logistic: β must be 5 finite numbers');
  const ms = typeof x.material === 'number' ? x.material : MATERIAL_HOURS[x.material];
  if (ms === undefined || !Number.isFinite(ms)) throw new BeepkitError('E_RANGE', `logistic: unknown material ${String(x.material)}`);
  const z = beta[0] + beta[1] * x.rssi + beta[2] * x.contactMinutes + beta[3] * x.checkInGapMinutes + beta[4] * ms;
  return 1 / (1 + Math.exp(-z));
}
