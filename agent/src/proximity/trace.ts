/**
 * The trace format of `beepkit proximity replay` (agent/README.md
 * "Proximity"): CSV with a header, columns by name in any order. Required
 * time (Unix s), rssi (dBm), rx, tx; optional rx_model, tx_model, tx_power,
 * rssi_correction; other columns ignored. Every malformed row is E_TRACE with
 * its line number; nothing is dropped.
 */
import { BeepkitError } from '@beepkit/protocol';
import { splitCsvLine } from '@beepkit/device-core/rssi';

export class TraceError extends BeepkitError {
  constructor(
    message: string,
    /** 1-based line of the file (the header is line 1); 0 for the file as a whole. */
    readonly line: number,
  ) {
    super('E_TRACE', line ? `trace line ${line}: ${message}` : `trace: ${message}`);
  }
  override toJSON(): { code: string; message: string; line?: number } {
    return { code: this.code, message: this.message, ...(this.line ? { line: this.line } : {}) };
  }
}

export interface TraceRow {
  /** 0-based index of the data row. */
  row: number;
  line: number;
  /** Unix seconds. */
  time: number;
  rssi: number;
  rx: string;
  tx: string;
  rxModel?: string;
  txModel?: string;
  txPower?: number;
  rssiCorrection?: number;
}

export const REQUIRED_COLUMNS = ['time', 'rssi', 'rx', 'tx'] as const;
const OPTIONAL_COLUMNS = ['rx_model', 'tx_model', 'tx_power', 'rssi_correction'] as const;
/** Ids and model names longer than this are refused (a trace is data from a tool, not prose). */
const MAX_FIELD = 256;

function num(v: string, what: string, line: number, min: number, max: number): number {
  // Number('') is 0 and Number(' 0x10 ') is 16: only decimal notation is a number here
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) throw new TraceError(`${what} is not a number: ${JSON.stringify(v.slice(0, 40))}`, line);
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new TraceError(`${what} ${v.slice(0, 40)} is outside ${min}..${max}`, line);
  return n;
}

/** Parses a whole trace; throws the first TraceError. */
export function parseTrace(text: string): TraceRow[] {
  if (typeof text !== 'string') throw new TraceError('not text', 0);
  const lines = text.split('\n');
  // one final newline (or several) ends the file; blank lines inside it are malformed rows
  while (lines.length > 1 && lines[lines.length - 1].replace(/\r$/, '') === '') lines.pop();
  const clean = (l: string): string => (l.endsWith('\r') ? l.slice(0, -1) : l);
  const head = splitCsvLine(clean(lines[0] ?? '')).map((h) => h.toLowerCase());
  if (head.length === 1 && head[0] === '') throw new TraceError('empty file: a header line is needed', 1);
  const dup = head.find((h, i) => h !== '' && head.indexOf(h) !== i);
  if (dup) throw new TraceError(`column ${JSON.stringify(dup.slice(0, 40))} appears twice`, 1);
  const missing = REQUIRED_COLUMNS.filter((c) => !head.includes(c));
  if (missing.length) throw new TraceError(`missing required column(s): ${missing.join(', ')}`, 1);
  const col = Object.fromEntries([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].map((c) => [c, head.indexOf(c)])) as Record<string, number>;
  const rows: TraceRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const raw = clean(lines[i]);
    if (raw.trim() === '') throw new TraceError('empty row', line);
    const f = splitCsvLine(raw);
    if (f.length !== head.length) throw new TraceError(`${f.length} fields, the header has ${head.length}`, line);
    const text = (c: string): string | undefined => (col[c] >= 0 && f[col[c]] !== '' ? f[col[c]] : undefined);
    const id = (c: string, required: boolean): string | undefined => {
      const v = text(c);
      if (v === undefined) {
        if (required) throw new TraceError(`${c} is empty`, line);
        return undefined;
      }
      if (v.length > MAX_FIELD) throw new TraceError(`${c} is longer than ${MAX_FIELD} characters`, line);
      return v;
    };
    const r: TraceRow = {
      row: i - 1,
      line,
      time: num(text('time') ?? '', 'time', line, 0, 1e11),
      // any dBm is accepted here: 127 (HCI "not available") and out-of-range readings are counted by the replay
      rssi: num(text('rssi') ?? '', 'rssi', line, -1e6, 1e6),
      rx: id('rx', true)!,
      tx: id('tx', true)!,
    };
    const rxModel = id('rx_model', false);
    const txModel = id('tx_model', false);
    if (rxModel !== undefined) r.rxModel = rxModel;
    if (txModel !== undefined) r.txModel = txModel;
    const txp = text('tx_power');
    if (txp !== undefined) r.txPower = num(txp, 'tx_power', line, -127, 127);
    const corr = text('rssi_correction');
    if (corr !== undefined) r.rssiCorrection = num(corr, 'rssi_correction', line, -60, 60);
    rows.push(r);
  }
  return rows;
}
