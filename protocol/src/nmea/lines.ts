/**
 * Line-level NMEA decoding: comments (`# Date:`), blank lines, sentences run together on one line,
 * decode, epoch assembly. The one path the CLI, the replay source and the serial source share. Pure.
 */
import { BeepkitError } from '../errors.ts';
import { splitSentences } from './checksum.ts';
import { decodeNmea, type Sentence } from './decode.ts';
import { NmeaEpochAssembler, type NmeaFix } from './epoch.ts';

export interface NmeaReject {
  code: string;
  message: string;
  line: string;
}

export interface LineResult {
  sentences: Sentence[];
  fixes: NmeaFix[];
  rejects: NmeaReject[];
}

export class NmeaLineDecoder {
  readonly assembler: NmeaEpochAssembler;

  constructor(options: { date?: string } = {}) {
    this.assembler = new NmeaEpochAssembler(options);
  }

  /** Feeds one received line (with or without its line ending). */
  line(text: string): LineResult {
    const res: LineResult = { sentences: [], fixes: [], rejects: [] };
    const trimmed = text.trim();
    if (trimmed === '') return res;
    if (trimmed.startsWith('#')) {
      this.assembler.comment(trimmed);
      return res;
    }
    for (const piece of splitSentences(text)) {
      try {
        const s = decodeNmea(piece);
        res.sentences.push(s);
        res.fixes.push(...this.assembler.push(s));
      } catch (e) {
        const err = e instanceof BeepkitError ? e : new BeepkitError('E_FORMAT', String(e));
        res.rejects.push({ code: err.code, message: err.message, line: piece.trim().slice(0, 120) });
      }
    }
    return res;
  }

  /** Closes the open epoch (end of input or silence). */
  flush(): NmeaFix[] {
    return this.assembler.flush();
  }
}

/** Decodes a whole captured log (any line endings). */
export function decodeNmeaLog(text: string, options: { date?: string } = {}): { fixes: NmeaFix[]; rejects: NmeaReject[] } {
  const dec = new NmeaLineDecoder(options);
  const fixes: NmeaFix[] = [];
  const rejects: NmeaReject[] = [];
  for (const l of text.split(/\r\n|\r|\n/)) {
    const r = dec.line(l);
    fixes.push(...r.fixes);
    rejects.push(...r.rejects);
  }
  fixes.push(...dec.flush());
  return { fixes, rejects };
}

/** The JSON object `beepkit nmea decode` prints for one epoch. */
export function fixToJson(f: NmeaFix): Record<string, unknown> {
  const o: Record<string, unknown> = { time: f.time, mode: f.mode, status: f.status };
  if (f.lat !== undefined) o.lat = Number(f.lat.toFixed(9));
  if (f.lon !== undefined) o.lon = Number(f.lon.toFixed(9));
  if (f.altMSL !== undefined) o.altMSL = f.altMSL;
  if (f.speed !== undefined) o.speed = Number(f.speed.toFixed(3));
  if (f.track !== undefined) o.track = f.track;
  if (f.hdop !== undefined) o.hdop = f.hdop;
  if (f.satellitesUsed !== undefined) o.satellitesUsed = f.satellitesUsed;
  return o;
}
