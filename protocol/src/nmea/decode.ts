/**
 * Pure NMEA 0183 sentence decoder (2.x – 4.11). No I/O, no timers.
 *
 * Decoded types: GGA RMC GSA GSV VTG GLL ZDA GNS GST, with any two-letter talker (GP GN GL GA GB BD GQ IN …).
 * Any other well-formed sentence with a good checksum (proprietary `$P…`, TXT, RMB, DPT, `$GYOACC` …)
 * decodes to `{ kind: 'unknown' }` — it is not an error, a receiver is allowed to send it.
 * Errors (BeepkitError only): E_CHECKSUM (mismatch), E_TRUNCATED (no `*hh`, or too few fields for the
 * type), E_FORMAT (not a sentence; a field that must be a number/time/coordinate is not one).
 * Extra trailing fields (NMEA 4.10 signal/system IDs, nav status) are tolerated; empty fields are undefined.
 */
import { BeepkitError } from '../errors.ts';
import { parseEnvelope } from './checksum.ts';

/** UTC time of day in integer milliseconds (0 … 86 400 999), rounded to the ms. */
export type TimeOfDayMs = number;

export interface SentenceBase {
  talker: string;
  /** Three-letter type (GGA …), or the whole address for proprietary/odd ones. */
  type: string;
  fields: string[];
}
export interface GgaSentence extends SentenceBase {
  kind: 'GGA';
  time?: TimeOfDayMs;
  lat?: number;
  lon?: number;
  quality?: number;
  satellitesUsed?: number;
  hdop?: number;
  altMSL?: number;
  geoidSep?: number;
  dgpsAge?: number;
  dgpsStation?: number;
}
export interface RmcSentence extends SentenceBase {
  kind: 'RMC';
  time?: TimeOfDayMs;
  valid: boolean;
  lat?: number;
  lon?: number;
  speedKnots?: number;
  track?: number;
  date?: { day: number; month: number; yy: number };
  magvar?: number;
  posMode?: string;
  navStatus?: string;
}
export interface GsaSentence extends SentenceBase {
  kind: 'GSA';
  selection?: string;
  fixMode?: number;
  prns: number[];
  pdop?: number;
  hdop?: number;
  vdop?: number;
  systemId?: number;
}
export interface GsvSatellite {
  prn: number;
  el?: number;
  az?: number;
  snr?: number;
}
export interface GsvSentence extends SentenceBase {
  kind: 'GSV';
  total?: number;
  index?: number;
  inView?: number;
  satellites: GsvSatellite[];
  signalId?: string;
}
export interface VtgSentence extends SentenceBase {
  kind: 'VTG';
  track?: number;
  trackMag?: number;
  speedKnots?: number;
  speedKmh?: number;
  posMode?: string;
}
export interface GllSentence extends SentenceBase {
  kind: 'GLL';
  lat?: number;
  lon?: number;
  time?: TimeOfDayMs;
  valid: boolean;
  posMode?: string;
}
export interface ZdaSentence extends SentenceBase {
  kind: 'ZDA';
  time?: TimeOfDayMs;
  day?: number;
  month?: number;
  year?: number;
}
export interface GnsSentence extends SentenceBase {
  kind: 'GNS';
  time?: TimeOfDayMs;
  lat?: number;
  lon?: number;
  posModes: string;
  satellitesUsed?: number;
  hdop?: number;
  altMSL?: number;
  geoidSep?: number;
  navStatus?: string;
}
export interface GstSentence extends SentenceBase {
  kind: 'GST';
  time?: TimeOfDayMs;
  rms?: number;
  stdMajor?: number;
  stdMinor?: number;
  orient?: number;
  stdLat?: number;
  stdLon?: number;
  stdAlt?: number;
}
export interface UnknownSentence extends SentenceBase {
  kind: 'unknown';
}
export type Sentence =
  GgaSentence | RmcSentence | GsaSentence | GsvSentence | VtgSentence | GllSentence | ZdaSentence | GnsSentence | GstSentence | UnknownSentence;

const NUM = /^[-+]?(\d+\.?\d*|\.\d+)$/;

/** Optional number: empty → undefined; malformed → E_FORMAT. */
function num(f: string | undefined, what: string): number | undefined {
  if (f === undefined || f === '') return undefined;
  if (!NUM.test(f)) throw new BeepkitError('E_FORMAT', `${what}: not a number: ${JSON.stringify(f.slice(0, 20))}`);
  return Number(f);
}
/** Optional number where receivers are known to send junk (course, magvar …): junk → undefined. */
function lax(f: string | undefined): number | undefined {
  if (f === undefined || f === '' || !NUM.test(f)) return undefined;
  return Number(f);
}
function int(f: string | undefined, what: string): number | undefined {
  const n = num(f, what);
  return n === undefined ? undefined : Math.trunc(n);
}

/** `hhmmss[.sss…]` → ms of day, rounded to the nearest ms from the decimal digits (no float error). */
export function parseTime(f: string | undefined): TimeOfDayMs | undefined {
  if (f === undefined || f === '') return undefined;
  const m = /^(\d\d)(\d\d)(\d\d)(?:\.(\d*))?$/.exec(f);
  if (!m) throw new BeepkitError('E_FORMAT', `time: not hhmmss.sss: ${JSON.stringify(f.slice(0, 20))}`);
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || mi > 59 || s > 60) throw new BeepkitError('E_FORMAT', `time out of range: ${f}`);
  const frac = (m[4] ?? '').padEnd(4, '0');
  // round to ms using the 4th digit (and beyond: any non-zero after a '5' still rounds up)
  let ms = Number(frac.slice(0, 3));
  if (frac[3]! >= '5') ms += 1;
  return ((h * 60 + mi) * 60 + s) * 1000 + ms;
}

/** `ddmm.mmmm` / `dddmm.mmmm` with hemisphere → signed degrees; empty → undefined. */
export function parseCoord(f: string | undefined, hemi: string | undefined, isLat: boolean): number | undefined {
  if (f === undefined || f === '') return undefined;
  if (!/^\d+(\.\d*)?$/.test(f)) throw new BeepkitError('E_FORMAT', `coordinate: ${JSON.stringify(f.slice(0, 20))}`);
  const dot = f.indexOf('.');
  const intPart = dot < 0 ? f : f.slice(0, dot);
  if (intPart.length < 3) throw new BeepkitError('E_FORMAT', `coordinate too short: ${f}`);
  const deg = Number(intPart.slice(0, -2));
  const min = Number(f.slice(intPart.length - 2));
  if (min >= 60 || deg > (isLat ? 90 : 180)) throw new BeepkitError('E_FORMAT', `coordinate out of range: ${f}`);
  const v = deg + min / 60;
  if (v > (isLat ? 90 : 180)) throw new BeepkitError('E_FORMAT', `coordinate out of range: ${f}`);
  const neg = isLat ? 'S' : 'W';
  const pos = isLat ? 'N' : 'E';
  if (hemi === neg) return -v;
  if (hemi === pos || hemi === '' || hemi === undefined) return v;
  throw new BeepkitError('E_FORMAT', `bad hemisphere ${JSON.stringify(hemi.slice(0, 4))}`);
}

function needFields(f: string[], n: number, type: string): void {
  if (f.length < n) throw new BeepkitError('E_TRUNCATED', `${type}: ${f.length} fields, need ${n}`);
}

function decodeBody(talker: string, type: string, f: string[]): Sentence {
  const base = { talker, type, fields: f };
  switch (type) {
    case 'GGA':
      needFields(f, 9, type);
      return {
        ...base,
        kind: 'GGA',
        time: parseTime(f[0]),
        lat: parseCoord(f[1], f[2], true),
        lon: parseCoord(f[3], f[4], false),
        quality: int(f[5], 'GGA quality'),
        satellitesUsed: int(f[6], 'GGA satellites'),
        hdop: lax(f[7]),
        altMSL: num(f[8], 'GGA altitude'),
        geoidSep: lax(f[10]),
        dgpsAge: lax(f[12]),
        dgpsStation: lax(f[13]),
      };
    case 'RMC': {
      needFields(f, 9, type);
      const d = /^(\d\d)(\d\d)(\d\d)$/.exec(f[8] ?? '');
      let magvar = lax(f[9]);
      if (magvar !== undefined && f[10] === 'W') magvar = -magvar;
      return {
        ...base,
        kind: 'RMC',
        time: parseTime(f[0]),
        valid: f[1] === 'A',
        lat: parseCoord(f[2], f[3], true),
        lon: parseCoord(f[4], f[5], false),
        speedKnots: lax(f[6]),
        track: lax(f[7]),
        date: d ? { day: Number(d[1]), month: Number(d[2]), yy: Number(d[3]) } : undefined,
        magvar,
        posMode: f[11] || undefined,
        navStatus: f[12] || undefined,
      };
    }
    case 'GSA': {
      needFields(f, 17, type);
      const prns: number[] = [];
      for (let i = 2; i < 14; i++) {
        const p = lax(f[i]);
        if (p !== undefined) prns.push(p);
      }
      return {
        ...base,
        kind: 'GSA',
        selection: f[0] || undefined,
        fixMode: lax(f[1]),
        prns,
        pdop: lax(f[14]),
        hdop: lax(f[15]),
        vdop: lax(f[16]),
        systemId: lax(f[17]),
      };
    }
    case 'GSV': {
      needFields(f, 3, type);
      const satellites: GsvSatellite[] = [];
      let i = 3;
      for (; i + 3 < f.length; i += 4) {
        const prn = lax(f[i]);
        if (prn === undefined) continue;
        satellites.push({ prn, el: lax(f[i + 1]), az: lax(f[i + 2]), snr: lax(f[i + 3]) });
      }
      return {
        ...base,
        kind: 'GSV',
        total: int(f[0], 'GSV total'),
        index: int(f[1], 'GSV index'),
        inView: int(f[2], 'GSV in view'),
        satellites,
        signalId: i < f.length ? f[i] : undefined,
      };
    }
    case 'VTG':
      needFields(f, 1, type);
      // NMEA 2.x+: track,T,magtrack,M,knots,N,kmh,K[,mode]; NMEA 1.5 had no unit letters.
      if (f.length >= 8 && f[1] === 'T') {
        return { ...base, kind: 'VTG', track: lax(f[0]), trackMag: lax(f[2]), speedKnots: lax(f[4]), speedKmh: lax(f[6]), posMode: f[8] || undefined };
      }
      return { ...base, kind: 'VTG', track: lax(f[0]), trackMag: lax(f[1]), speedKnots: lax(f[2]), speedKmh: lax(f[3]) };
    case 'GLL':
      needFields(f, 4, type);
      return {
        ...base,
        kind: 'GLL',
        lat: parseCoord(f[0], f[1], true),
        lon: parseCoord(f[2], f[3], false),
        time: parseTime(f[4]),
        valid: f[5] === undefined || f[5] === '' ? f[0] !== '' : f[5] === 'A',
        posMode: f[6] || undefined,
      };
    case 'ZDA':
      needFields(f, 4, type);
      return { ...base, kind: 'ZDA', time: parseTime(f[0]), day: int(f[1], 'ZDA day'), month: int(f[2], 'ZDA month'), year: int(f[3], 'ZDA year') };
    case 'GNS':
      needFields(f, 9, type);
      return {
        ...base,
        kind: 'GNS',
        time: parseTime(f[0]),
        lat: parseCoord(f[1], f[2], true),
        lon: parseCoord(f[3], f[4], false),
        posModes: f[5] ?? '',
        satellitesUsed: lax(f[6]),
        hdop: lax(f[7]),
        altMSL: lax(f[8]),
        geoidSep: lax(f[9]),
        navStatus: f[12] || undefined,
      };
    case 'GST':
      needFields(f, 8, type);
      return {
        ...base,
        kind: 'GST',
        time: parseTime(f[0]),
        rms: lax(f[1]),
        stdMajor: lax(f[2]),
        stdMinor: lax(f[3]),
        orient: lax(f[4]),
        stdLat: lax(f[5]),
        stdLon: lax(f[6]),
        stdAlt: lax(f[7]),
      };
    default:
      return { ...base, kind: 'unknown' };
  }
}

/** Decodes one sentence (line endings and leading blanks allowed). Throws BeepkitError only. */
export function decodeNmea(line: string): Sentence {
  const { body } = parseEnvelope(line);
  const parts = body.split(',');
  const addr = parts[0]!;
  if (!/^[A-Z0-9]{2,}$/.test(addr)) throw new BeepkitError('E_FORMAT', `bad address field ${JSON.stringify(addr.slice(0, 10))}`);
  const fields = parts.slice(1);
  if (addr.startsWith('P') || addr.length !== 5) return { talker: addr.startsWith('P') ? 'P' : '', type: addr, fields, kind: 'unknown' };
  try {
    return decodeBody(addr.slice(0, 2), addr.slice(2), fields);
  } catch (e) {
    if (e instanceof BeepkitError) throw e;
    throw new BeepkitError('E_FORMAT', `${addr}: ${(e as Error).message}`, { cause: e });
  }
}
