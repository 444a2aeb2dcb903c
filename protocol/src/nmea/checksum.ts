/**
 * NMEA 0183 sentence framing: checksum, envelope split, encode. Pure.
 */
import { BeepkitError } from '../errors.ts';

/** XOR of the bytes of `body` (the text between `$` and `*`), as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let cs = 0;
  for (let i = 0; i < body.length; i++) cs ^= body.charCodeAt(i) & 0xff;
  return cs.toString(16).toUpperCase().padStart(2, '0');
}

export interface Envelope {
  /** `$` or `!` */
  start: string;
  /** Text between the start character and `*`. */
  body: string;
}

const MAX_LEN = 1024;

/**
 * Splits one line into its envelope after checking the checksum. Tolerates leading and trailing
 * whitespace (CR, LF, blanks) and lower-case hex. Throws E_FORMAT (no `$`/`!`, control bytes, too long,
 * a second `$` inside), E_TRUNCATED (no `*hh` at the end) or E_CHECKSUM (mismatch).
 */
export function parseEnvelope(line: string): Envelope {
  const s = line.trim();
  if (s.length === 0) throw new BeepkitError('E_FORMAT', 'empty line');
  if (s.length > MAX_LEN) throw new BeepkitError('E_FORMAT', `line longer than ${MAX_LEN} characters`);
  const start = s[0]!;
  if (start !== '$' && start !== '!') throw new BeepkitError('E_FORMAT', 'sentence does not start with $ or !');
  const star = s.lastIndexOf('*');
  if (star < 0 || s.length - star !== 3) throw new BeepkitError('E_TRUNCATED', 'sentence has no *hh checksum');
  const body = s.slice(1, star);
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new BeepkitError('E_FORMAT', `control or non-ASCII byte 0x${c.toString(16)} in sentence`);
    if (c === 0x24 || c === 0x2a) throw new BeepkitError('E_FORMAT', 'sentences run together');
  }
  const given = s.slice(star + 1).toUpperCase();
  if (!/^[0-9A-F]{2}$/.test(given)) throw new BeepkitError('E_FORMAT', 'checksum is not two hex digits');
  const want = nmeaChecksum(body);
  if (given !== want) throw new BeepkitError('E_CHECKSUM', `checksum ${given}, computed ${want}`);
  return { start, body };
}

/** True when the line is a well-framed sentence whose checksum matches. Never throws. */
export function checksumOk(line: string): boolean {
  try {
    parseEnvelope(line);
    return true;
  } catch {
    return false;
  }
}

/** Builds `$<talker><type>,f1,f2…*hh\r\n`. */
export function encodeSentence(talker: string, type: string, fields: readonly (string | number | undefined)[]): string {
  const body = [talker + type, ...fields.map((f) => (f === undefined ? '' : String(f)))].join(',');
  return `$${body}*${nmeaChecksum(body)}\r\n`;
}

/**
 * Splits a received line at every `$`/`!` so that sentences run together on one line can be decoded
 * separately (the receiver-side resync a real lexer does). Pieces keep their start character.
 */
export function splitSentences(line: string): string[] {
  const out: string[] = [];
  let from = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '$' || c === '!') {
      if (from >= 0 || (i > 0 && line.slice(0, i).trim() !== '')) out.push(line.slice(Math.max(from, 0), i));
      from = i;
    }
  }
  if (from >= 0) out.push(line.slice(from));
  else if (line.trim() !== '') out.push(line);
  return out;
}
