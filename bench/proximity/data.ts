/**
 * The shared RSSI recordings (../shared/fixtures/rssi, README.md there) as
 * trace rows in the `beepkit proximity replay` format, with their ground-truth
 * distance: Herald cable car, pc-ng body positions, elanfer Pi receiver.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitCsvLine } from '@beepkit/device-core/rssi';

export const RSSI_DIR = fileURLToPath(new URL('../../../shared/fixtures/rssi/', import.meta.url));

export interface LabelledRow {
  time: number;
  rssi: number;
  rx: string;
  tx: string;
  rx_model: string;
  tx_model: string;
  /** Ground truth, metres. */
  distance: number;
}

export interface Dataset {
  name: string;
  /** Whether time is real (durations mean something). */
  timed: boolean;
  rows: LabelledRow[];
  note: string;
}

function csv(text: string): { head: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  return { head: splitCsvLine(lines[0] ?? ''), rows: lines.slice(1).map(splitCsvLine) };
}

/** Herald phone names → Build.MODEL-like names for the calibration table (iPhones are not in it: fallback). */
const HERALD_MODELS: Record<string, string> = {
  '4S': 'iPhone 4S',
  Germany: 'iPhone 5S',
  Denmark: 'iPhone 6S',
  Netherlands: 'iPhone 6 Plus',
  '6S+': 'iPhone 6S Plus',
  '8+': 'iPhone 8 Plus',
  X: 'iPhone X',
  P2: 'Pixel 2',
  P3: 'Pixel 3',
  J6: 'SM-J600FN',
  A10: 'SM-A105F',
  A20: 'SM-A205F',
  N8: 'SM-N950F',
  'S9+': 'SM-G965F',
};

/** `maxFiles`: read at most this many recordings (smoke runs). */
export function herald(maxFiles = Infinity): Dataset {
  const dir = join(RSSI_DIR, 'theheraldproject+herald-analysis/reference-data/rssi-raw-edison');
  const meta = csv(readFileSync(join(dir, 'metadata.csv'), 'utf8'));
  const h = (n: string): number => meta.head.indexOf(n);
  const rows: LabelledRow[] = [];
  let files = 0;
  for (const m of meta.rows) {
    for (const side of ['a', 'b'] as const) {
      const file = m[h(`filenamephone${side}`)];
      if (!file || !existsSync(join(dir, `${file}.gz`)) || files >= maxFiles) continue;
      files++;
      const rxName = m[h(side === 'a' ? 'phoneaname' : 'phonebname')];
      const txName = m[h(side === 'a' ? 'phonebname' : 'phoneaname')];
      const data = csv(gunzipSync(readFileSync(join(dir, `${file}.gz`))).toString('utf8'));
      const [ti, ri, di] = ['time', 'rssi', 'distance'].map((n) => data.head.indexOf(n));
      for (const r of data.rows) {
        const time = Date.parse(r[ti].replace(' ', 'T') + 'Z') / 1000;
        const rssi = Number(r[ri]);
        const d = Number(r[di]) / 100;
        if (!Number.isFinite(time) || !Number.isFinite(rssi) || !Number.isFinite(d)) continue;
        rows.push({
          time,
          rssi,
          rx: `${file}:${rxName}`,
          tx: `${file}:${txName}`,
          rx_model: HERALD_MODELS[rxName] ?? rxName,
          tx_model: HERALD_MODELS[txName] ?? txName,
          distance: d,
        });
      }
    }
  }
  return { name: 'herald', timed: true, rows, note: 'cable car, line of sight, 0–3.4 m, phone pairs per metadata.csv (rx = the phone whose log it is)' };
}

const PCNG_SETS = ['HandHand', 'HandPocket', 'HandBackpack', 'PocketBackpack', 'PocketPocket', 'BackpackBackpack'];

export function pcng(): Dataset {
  const dir = join(RSSI_DIR, 'pc-ng+rss_smartphone');
  const rows: LabelledRow[] = [];
  const models: Record<string, string> = { gryphonelab: 'gryphonelab', 'HTC One M9': 'HTC One M9' };
  for (const set of PCNG_SETS) {
    const file = readdirSync(join(dir, set)).find((f) => /^RSS_human..\.csv$/.test(f));
    if (!file) continue;
    const data = csv(readFileSync(join(dir, set, file), 'utf8'));
    const [de, el, rs, di] = ['device', 'elapsed', 'rss', 'dist'].map((n) => data.head.indexOf(n));
    // each set has two phones (gryphonelab and HTC One M9, or ASUS_Z00AD and N8 in HandBackpack and PocketBackpack): each hears the other
    const devices = [...new Set(data.rows.map((r) => r[de]).filter(Boolean))].sort();
    for (const r of data.rows) {
      const time = Number(r[el]);
      const rssi = Number(r[rs]);
      const d = Number(r[di]) / 100;
      if (!r[el] || !r[rs] || !r[di] || !Number.isFinite(time) || !Number.isFinite(rssi) || !Number.isFinite(d)) continue;
      const rx = r[de];
      const tx = devices.find((x) => x !== rx) ?? rx;
      rows.push({ time, rssi, rx: `${set}:${rx}`, tx: `${set}:${tx}`, rx_model: models[rx] ?? rx, tx_model: models[tx] ?? tx, distance: d });
    }
  }
  return { name: 'pc-ng', timed: true, rows, note: 'two people, hand/pocket/backpack, 0.2–5 m; elapsed seconds (rounded to 100 s for the HTC in BB and PP)' };
}

export function elanfer(): Dataset {
  const dir = join(RSSI_DIR, 'elanfer+multi-channel-paper-data/data');
  const rows: LabelledRow[] = [];
  const models: Record<string, string> = { iPhone: 'iPhone 6S', OnePlus: 'OnePlus Nord N10 5G', Pi: 'Raspberry Pi 4' };
  const files: string[] = [];
  for (const env of readdirSync(dir).sort()) {
    for (const sub of ['', 'measurement_section', 'scenarios']) {
      const p = join(dir, env, sub);
      if (!existsSync(p)) continue;
      for (const f of readdirSync(p).sort()) if (f.endsWith('.csv')) files.push(join(env, sub, f));
    }
  }
  for (const f of files) {
    const lines = readFileSync(join(dir, f), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim());
    const head = splitCsvLine(lines[0]);
    const [ri, di] = ['rssiBLE', 'distance'].map((n) => head.indexOf(n));
    const sender = f.split('/').pop()!.replace('.csv', '');
    let t = 0;
    for (const line of lines.slice(1)) {
      const r = splitCsvLine(line);
      // office/scenarios/OnePlus.csv changes its header mid-file: the rows after it have no rssiBLE column
      if (r[0] === 'y' || r.length !== head.length) break;
      const rssi = Number(r[ri]);
      const d = Number(r[di]) / 100;
      if (!Number.isFinite(rssi) || !Number.isFinite(d) || r[ri] === '') continue;
      rows.push({ time: t++, rssi, rx: `${f}:Pi4`, tx: `${f}:${sender}`, rx_model: 'Raspberry Pi 4', tx_model: models[sender] ?? sender, distance: d });
    }
  }
  return {
    name: 'elanfer',
    timed: false,
    rows,
    note: 'Pi 4 receiver in office, bus, train, parking lot, 0.45–6 m; no timestamps: rows are 1 s apart in file order',
  };
}

/** Every dataset; `stride` keeps every k-th row, `maxFiles` limits Herald's recordings (smoke runs). */
export function allDatasets(o: { stride?: number; maxFiles?: number } = {}): Dataset[] {
  const k = Math.max(1, Math.floor(o.stride ?? 1));
  return [herald(o.maxFiles), pcng(), elanfer()].map((d) => (k === 1 ? d : { ...d, rows: d.rows.filter((_, i) => i % k === 0) }));
}
