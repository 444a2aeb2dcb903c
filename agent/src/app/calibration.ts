/**
 * This unit's calibration on top of its model's: `beepkit agent calibrate`
 * writes <dataDir>/calibration.json, the agent reads it at start (it wins
 * over radio.rssiCorrection). agent/README.md "Proximity".
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { deviceCalibration, loadModelTable, type ReceiverCalibration } from '@beepkit/device-core/rssi';
import type { AgentConfig } from '../config/index.ts';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';

export const UNIT_CALIBRATION_FILE = 'calibration.json';

export interface UnitCalibration {
  /** dB added on top of the model's rssi_correction. */
  unitCorrection: number;
  /** The model it was measured with (radio.model), if any. */
  model?: string;
  tableVersion: string;
  medianRssi: number;
  spreadDb: number;
  samples: number;
  expectedRssiAt1m: number;
  /** ms since the Unix epoch. */
  at: number;
}

/** The unit file, or undefined when there is none; E_CONFIG when it is not one. */
export async function readUnitCalibration(dataDir: string): Promise<UnitCalibration | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, UNIT_CALIBRATION_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BeepkitError('E_CONFIG', `${UNIT_CALIBRATION_FILE}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new BeepkitError('E_CONFIG', `${UNIT_CALIBRATION_FILE}: not JSON`);
  }
  const u = doc as Partial<UnitCalibration> | null;
  if (!u || typeof u.unitCorrection !== 'number' || !Number.isFinite(u.unitCorrection) || Math.abs(u.unitCorrection) > 60) {
    throw new BeepkitError('E_CONFIG', `${UNIT_CALIBRATION_FILE}: unitCorrection must be a number in -60..60`);
  }
  return u as UnitCalibration;
}

export async function writeUnitCalibration(dataDir: string, u: UnitCalibration): Promise<string> {
  const path = join(dataDir, UNIT_CALIBRATION_FILE);
  await writeFileAtomic(path, JSON.stringify(u, null, 2) + '\n', 0o600); // fsync, rename, directory fsync
  return path;
}

/** The receiver's effective calibration: model row (radio.model) + unit correction (file, else radio.rssiCorrection). */
export function receiverCalibration(cfg: AgentConfig, unit?: UnitCalibration): ReceiverCalibration {
  const table = loadModelTable(cfg.radio.calibrationTable);
  return deviceCalibration({ model: cfg.radio.model, unitCorrection: unit?.unitCorrection ?? cfg.radio.rssiCorrection, txPower: cfg.radio.txPower, table });
}
