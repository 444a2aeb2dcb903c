/**
 * Per-device RSSI calibration: a table of corrections per device model and
 * per unit (config), and the procedure `beepkit agent calibrate` runs:
 * measure a reference beacon at 1 m for N samples → correction.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface CalibrationEntry {
  /** Added to raw RSSI before attenuation (GAEN "RSSI correction"), dB. */
  rssiCorrection: number;
  /** Calibrated TX power this device advertises in its AEM, dBm. */
  txPower?: number;
}

export interface CalibrationTable {
  default: CalibrationEntry;
  /** By device model (e.g. "rpi4-nrf52840"). */
  models?: Record<string, CalibrationEntry>;
  /** By unit id (overrides the model). */
  units?: Record<string, CalibrationEntry>;
}

export const DEFAULT_CALIBRATION: CalibrationTable = { default: { rssiCorrection: 0, txPower: -8 } };

/** Unit entry, else model entry, else default. */
export function lookupCalibration(table: CalibrationTable, who: { model?: string; unit?: string } = {}): CalibrationEntry {
  const unit = who.unit !== undefined ? table.units?.[who.unit] : undefined;
  if (unit) return { ...table.default, ...unit };
  const model = who.model !== undefined ? table.models?.[who.model] : undefined;
  if (model) return { ...table.default, ...model };
  return table.default;
}

/** Validates a parsed config object into a CalibrationTable (E_CONFIG on error). */
export function parseCalibrationTable(raw: unknown): CalibrationTable {
  const entry = (v: unknown, where: string): CalibrationEntry => {
    const o = v as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || typeof o.rssiCorrection !== 'number' || !Number.isFinite(o.rssiCorrection)) {
      throw new BeepkitError('E_CONFIG', `calibration ${where}: rssiCorrection must be a finite number`);
    }
    if (o.txPower !== undefined && (typeof o.txPower !== 'number' || !Number.isFinite(o.txPower))) {
      throw new BeepkitError('E_CONFIG', `calibration ${where}: txPower must be a finite number`);
    }
    return { rssiCorrection: o.rssiCorrection, ...(o.txPower !== undefined ? { txPower: o.txPower as number } : {}) };
  };
  const o = raw as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new BeepkitError('E_CONFIG', 'calibration: expected an object');
  const map = (v: unknown, where: string): Record<string, CalibrationEntry> | undefined => {
    if (v === undefined) return undefined;
    if (!v || typeof v !== 'object') throw new BeepkitError('E_CONFIG', `calibration ${where}: expected an object`);
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, entry(e, `${where}.${k}`)]));
  };
  return { default: entry(o.default ?? { rssiCorrection: 0 }, 'default'), models: map(o.models, 'models'), units: map(o.units, 'units') };
}

export interface CalibrationOptions {
  /** RSSI a calibrated receiver reads from the reference beacon at 1 m (its measured power), dBm. */
  expectedRssiAt1m: number;
  /** Minimum number of samples. */
  minSamples?: number;
  /** Maximum robust spread (1.4826·MAD) accepted, dB. */
  maxSpreadDb?: number;
}

export interface CalibrationResult {
  /** RSSI correction to store for this unit, dB (rounded to 0.5 dB). */
  correction: number;
  medianRssi: number;
  spreadDb: number;
  samples: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Correction from N samples of a reference beacon at 1 m: expected − median.
 * Robust to outliers; refuses too few samples (E_CALIBRATION_SAMPLES) or a
 * noisy series (E_CALIBRATION_SPREAD).
 */
export function calibrate(samples: readonly number[], opts: CalibrationOptions): CalibrationResult {
  const min = opts.minSamples ?? 30;
  const clean = samples.filter((s) => Number.isFinite(s) && s < 21 && s > -128);
  if (clean.length < min) throw new BeepkitError('E_CALIBRATION_SAMPLES', `calibration: need ${min} samples, have ${clean.length}`);
  const med = median(clean);
  const spread = 1.4826 * median(clean.map((s) => Math.abs(s - med)));
  const maxSpread = opts.maxSpreadDb ?? 6;
  if (spread > maxSpread)
    throw new BeepkitError('E_CALIBRATION_SPREAD', `calibration: spread ${spread.toFixed(1)} dB > ${maxSpread} dB; move away from reflectors`);
  return { correction: Math.round((opts.expectedRssiAt1m - med) * 2) / 2, medianRssi: med, spreadDb: spread, samples: clean.length };
}

/** Collects RSSI samples of one reference address until `n` are in (feed it AdvertEvents). */
export class CalibrationCollector {
  readonly samples: number[] = [];
  constructor(
    readonly address: string,
    readonly n: number,
  ) {}
  /** Returns true once enough samples are collected. */
  push(ev: { address: string; rssi: number }): boolean {
    if (ev.address.toLowerCase() === this.address.toLowerCase() && this.samples.length < this.n) this.samples.push(ev.rssi);
    return this.samples.length >= this.n;
  }
}
