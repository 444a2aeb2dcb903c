/**
 * Per-model Exposure Notification calibration as versioned data: Google's
 * table (device-core/data/calibration/, CC BY 4.0 via microG, NOTICE.md there),
 * loaded by the agent, the wearable and the tools. Attenuation follows the EN
 * definition: TX (the transmitter's announced power, i.e. its model's
 * tx_power_correction) − (RSSI + the receiver model's rssi_correction).
 *
 * Lookup by model name (case-insensitive): Build.MODEL, then Build.DEVICE;
 * else the fallback, documented in agent/README.md "Proximity": the median of
 * the models of the same OEM when the name starts with a known OEM, else the
 * median of the whole table.
 */
import { readFileSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';

export const DEFAULT_TABLE_FILE = new URL('../../data/calibration/en-calibration-2020-12-14.csv', import.meta.url);

export interface ModelCalibration {
  /** dB added to the receiver's raw RSSI. */
  rssiCorrection: number;
  /** dBm this model announces as its TX power (EN metadata). */
  txPower: number;
  /** How the entry was found. */
  source: 'model' | 'device' | 'oem' | 'fallback';
  /** The table row's model name (or the OEM, or "median"). */
  name: string;
}

export interface ModelTable {
  /** The table's date, e.g. "2020-12-14" (from the file name), or the file name. */
  version: string;
  size: number;
  lookup(model: string | undefined): ModelCalibration;
}

interface Row {
  oem: string;
  device: string;
  model: string;
  rssi: number;
  tx: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Splits one CSV line (double quotes allowed, no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Parses a calibration CSV (columns by name: model, rssi_correction_db, tx_power_correction_db; optional oem, device). E_CALIBRATION on error. */
export function parseModelTable(text: string, version: string): ModelTable {
  const lines = text.split(/\r?\n/);
  const head = splitCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  const col = (n: string): number => head.indexOf(n);
  const need = ['model', 'rssi_correction_db', 'tx_power_correction_db'].filter((n) => col(n) < 0);
  if (need.length) throw new BeepkitError('E_CALIBRATION', `calibration table ${version}: missing column(s) ${need.join(', ')}`);
  const rows: Row[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const f = splitCsvLine(lines[i]);
    const rssi = Number(f[col('rssi_correction_db')]);
    const tx = Number(f[col('tx_power_correction_db')]);
    const model = f[col('model')] ?? '';
    if (!model || !Number.isFinite(rssi) || !Number.isFinite(tx) || f[col('rssi_correction_db')] === '' || f[col('tx_power_correction_db')] === '') {
      throw new BeepkitError('E_CALIBRATION', `calibration table ${version}: line ${i + 1}: needs a model and two numbers`);
    }
    rows.push({ oem: col('oem') >= 0 ? (f[col('oem')] ?? '') : '', device: col('device') >= 0 ? (f[col('device')] ?? '') : '', model, rssi, tx });
  }
  if (!rows.length) throw new BeepkitError('E_CALIBRATION', `calibration table ${version}: no rows`);
  const byModel = new Map<string, Row>();
  const byDevice = new Map<string, Row>();
  const byOem = new Map<string, Row[]>();
  for (const r of rows) {
    if (!byModel.has(r.model.toLowerCase())) byModel.set(r.model.toLowerCase(), r);
    if (r.device && !byDevice.has(r.device.toLowerCase())) byDevice.set(r.device.toLowerCase(), r);
    if (r.oem) byOem.set(r.oem.toLowerCase(), [...(byOem.get(r.oem.toLowerCase()) ?? []), r]);
  }
  const all: ModelCalibration = { rssiCorrection: median(rows.map((r) => r.rssi)), txPower: median(rows.map((r) => r.tx)), source: 'fallback', name: 'median' };
  const oems = new Map(
    [...byOem].map(([k, rs]) => [k, { rssiCorrection: median(rs.map((r) => r.rssi)), txPower: median(rs.map((r) => r.tx)), source: 'oem' as const, name: k }]),
  );
  return {
    version,
    size: rows.length,
    lookup(model) {
      const k = (model ?? '').trim().toLowerCase();
      if (!k) return all;
      const m = byModel.get(k);
      if (m) return { rssiCorrection: m.rssi, txPower: m.tx, source: 'model', name: m.model };
      const d = byDevice.get(k);
      if (d) return { rssiCorrection: d.rssi, txPower: d.tx, source: 'device', name: d.model };
      const oem = oems.get(k.split(/[\s_-]/)[0]);
      return oem ?? all;
    },
  };
}

const cache = new Map<string, ModelTable>();

/** Loads a calibration CSV (default: the shipped 2020-12-14 table); cached per path. E_CALIBRATION when unreadable. */
export function loadModelTable(path: string | URL = DEFAULT_TABLE_FILE): ModelTable {
  const key = String(path);
  const hit = cache.get(key);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_CALIBRATION', `calibration table ${key} cannot be read: ${(cause as Error).message}`, { cause });
  }
  const base = key.split('/').pop() ?? key;
  const version = /(\d{4}-\d{2}-\d{2})/.exec(base)?.[1] ?? base;
  const t = parseModelTable(text, version);
  cache.set(key, t);
  return t;
}

export interface ReceiverCalibration {
  /** Model correction + per-unit correction, dB (added to raw RSSI). */
  rssiCorrection: number;
  /** TX power to announce in the AEM, dBm. */
  txPower: number;
  model: ModelCalibration;
  unitCorrection: number;
  tableVersion: string;
}

/**
 * A device's effective calibration: its model's row (or the fallback) plus the
 * per-unit correction of `beepkit agent calibrate`; an explicit txPower wins
 * over the model's.
 */
export function deviceCalibration(o: { model?: string; unitCorrection?: number; txPower?: number; table?: ModelTable }): ReceiverCalibration {
  const table = o.table ?? loadModelTable();
  const model = o.model ? table.lookup(o.model) : { rssiCorrection: 0, txPower: -8, source: 'fallback' as const, name: 'none' };
  const unit = o.unitCorrection ?? 0;
  return { rssiCorrection: model.rssiCorrection + unit, txPower: o.txPower ?? model.txPower, model, unitCorrection: unit, tableVersion: table.version };
}
