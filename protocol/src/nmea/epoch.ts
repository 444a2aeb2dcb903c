/**
 * Epoch assembler: turns a stream of decoded sentences into one fix per receiver epoch, the way gpsd
 * builds its TPV reports (compare with its per-epoch final TPV). Pure: no I/O, no timers, no "now".
 *
 * An epoch is the run of sentences sharing one UTC time of day; sentences without time (GSA, GSV, VTG)
 * join the current epoch. A timed sentence with another time closes the epoch. The date comes from RMC
 * or ZDA in the epoch, else from the reference date (`# Date:` header, `--date`, or the last RMC/ZDA
 * date), rolled over at midnight. Without any date the fix has no `time` (gpsd would use the host clock).
 */
import type { Sentence, TimeOfDayMs } from './decode.ts';

export interface NmeaFix {
  /** ISO 8601 UTC with exactly 3 fractional digits; absent when no date is known yet. */
  time?: string;
  /** Epoch time in ms since 1970 (absent with `time`). */
  timeMs?: number;
  /** UTC time of day in ms (absent for sentences with an empty time field). */
  timeOfDayMs?: number;
  /** 1 no fix, 2 2D, 3 3D (0: nothing seen that says). */
  mode: 0 | 1 | 2 | 3;
  /** gpsd TPV status: 0 unknown, 1 GPS, 2 DGPS, 3 RTK fixed, 4 RTK float, 5 DR, 7 time only, 8 simulated, 9 PPS. */
  status: number;
  lat?: number;
  lon?: number;
  altMSL?: number;
  geoidSep?: number;
  /** m/s */
  speed?: number;
  /** degrees true */
  track?: number;
  hdop?: number;
  pdop?: number;
  vdop?: number;
  satellitesUsed?: number;
  satellitesInView?: number;
  /** Horizontal accuracy estimate in m (1 sigma): GST lat/lon σ when sent, else hdop × UERE. */
  accuracy?: number;
  /** Talker+type of every sentence that went into the epoch, in order. */
  sentences: string[];
}

/** GGA quality indicator → gpsd TPV status. */
export const GGA_QUALITY_STATUS: Readonly<Record<number, number>> = { 0: 0, 1: 1, 2: 2, 3: 9, 4: 3, 5: 4, 6: 5, 7: 7, 8: 8 };
/** NMEA 2.3+ FAA mode letter (RMC/GLL/VTG/GNS) → gpsd status. */
const FAA_STATUS: Readonly<Record<string, number>> = { A: 1, D: 2, E: 5, F: 4, M: 7, P: 9, R: 3, S: 8 };

/** gpsd's user-equivalent range errors (m): horizontal 15, DGPS 3.75. */
export const UERE_H = 15;
export const UERE_H_DGPS = 3.75;

interface Ymd {
  y: number;
  m: number;
  d: number;
}

const DAY_MS = 86_400_000;

function ymdToMs({ y, m, d }: Ymd): number {
  return Date.UTC(y, m - 1, d);
}
function msToYmd(ms: number): Ymd {
  const t = new Date(ms);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** Parses `YYYY-MM-DD` like gpsd_set_century(): years 1968..2200, bad month/day → 1. */
export function parseReferenceDate(s: string): Ymd | undefined {
  const m = /^\s*(\d+)-(\d+)-(\d+)/.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  if (y < 1968 || y > 2200) return undefined;
  let mo = Number(m[2]);
  let d = Number(m[3]);
  if (mo < 1 || mo > 12) mo = 1;
  if (d < 1 || d > 31) d = 1;
  return { y, m: mo, d };
}

interface Work {
  tod?: TimeOfDayMs;
  date?: Ymd;
  mode: 0 | 1 | 2 | 3;
  status: number;
  lat?: number;
  lon?: number;
  altMSL?: number;
  geoidSep?: number;
  speed?: number;
  track?: number;
  hdop?: number;
  pdop?: number;
  vdop?: number;
  satellitesUsed?: number;
  gsaUsed: number;
  inView: Map<string, number>;
  gst?: number;
  /** Largest GSA fix mode seen in the epoch. */
  gsaMode: number;
  /** A GGA/GNS/GSA said whether the fix is 2D or 3D. */
  dimensionKnown: boolean;
  sentences: string[];
}

function fresh(): Work {
  return { mode: 0, status: 0, gsaUsed: 0, gsaMode: 0, dimensionKnown: false, inView: new Map(), sentences: [] };
}

const KNOT = 1852 / 3600;

export class NmeaEpochAssembler {
  private ref: Ymd | undefined;
  private lastTod: number | undefined;
  private w: Work = fresh();
  private open = false;
  private lastMode = 0;

  constructor(options: { date?: string } = {}) {
    if (options.date !== undefined) this.ref = parseReferenceDate(options.date);
  }

  /** Sets the reference date used for time-only sentences (`YYYY-MM-DD`). Ignored when out of range. */
  setReferenceDate(date: string): void {
    const r = parseReferenceDate(date);
    if (r) {
      this.ref = r;
      this.lastTod = undefined;
    }
  }

  /** Feeds a comment line; `# Date: yyyy-mm-dd` sets the reference date, like gpsd. */
  comment(line: string): void {
    const m = /^\s*#\s*Date:\s*(.*)$/.exec(line);
    if (m) this.setReferenceDate(m[1]!);
  }

  /** Feeds one sentence; returns the epoch it completed, if any. */
  push(s: Sentence): NmeaFix[] {
    if (s.kind === 'unknown') return [];
    const tod = 'time' in s ? s.time : undefined;
    const out: NmeaFix[] = [];
    if (tod !== undefined && this.w.tod !== undefined && tod !== this.w.tod) out.push(...this.flush());
    if (tod !== undefined) this.w.tod = tod;
    this.open = true;
    this.apply(s);
    return out;
  }

  /** Closes the open epoch (end of input, or silence). */
  flush(): NmeaFix[] {
    if (!this.open) return [];
    const w = this.w;
    this.w = fresh();
    this.open = false;
    return [this.finish(w)];
  }

  private apply(s: Exclude<Sentence, { kind: 'unknown' }>): void {
    const w = this.w;
    w.sentences.push(s.talker + s.type);
    switch (s.kind) {
      case 'GGA': {
        w.dimensionKnown = true;
        const q = s.quality ?? 0;
        if (q === 0 || s.lat === undefined || s.lon === undefined) {
          w.mode = 1;
          w.status = 0;
        } else {
          w.lat = s.lat;
          w.lon = s.lon;
          w.status = GGA_QUALITY_STATUS[q] ?? 1;
          if (s.altMSL !== undefined) {
            w.altMSL = s.altMSL;
            w.mode = 3;
          } else if (w.mode < 2) w.mode = 2;
          if (s.geoidSep !== undefined) w.geoidSep = s.geoidSep;
        }
        if (s.hdop !== undefined) w.hdop = s.hdop;
        if (s.satellitesUsed !== undefined) w.satellitesUsed = s.satellitesUsed;
        break;
      }
      case 'GNS': {
        w.dimensionKnown = true;
        const fixed = /[ADPRFE]/.test(s.posModes);
        if (!fixed || s.lat === undefined || s.lon === undefined) {
          w.mode = 1;
          w.status = 0;
        } else {
          w.lat = s.lat;
          w.lon = s.lon;
          const st = [...s.posModes].map((c) => FAA_STATUS[c] ?? 0);
          w.status = Math.max(w.status, ...st.filter((x) => x !== 9));
          if (s.altMSL !== undefined) {
            w.altMSL = s.altMSL;
            w.mode = 3;
          } else if (w.mode < 2) w.mode = 2;
          if (s.geoidSep !== undefined) w.geoidSep = s.geoidSep;
        }
        if (s.hdop !== undefined) w.hdop = s.hdop;
        if (s.satellitesUsed !== undefined) w.satellitesUsed = s.satellitesUsed;
        break;
      }
      case 'RMC':
        if (s.date) {
          const century = this.ref ? Math.floor(this.ref.y / 100) * 100 : 2000;
          w.date = { y: century + s.date.yy, m: s.date.month, d: s.date.day };
        }
        if (!s.valid || s.lat === undefined || s.lon === undefined || s.posMode === 'N') {
          w.mode = 1;
        } else {
          w.lat = s.lat;
          w.lon = s.lon;
          if (w.mode < 2) w.mode = 2;
          if (w.status === 0 && s.posMode !== undefined) w.status = FAA_STATUS[s.posMode] ?? 0;
          if (s.speedKnots !== undefined) w.speed = s.speedKnots * KNOT;
          if (s.track !== undefined) w.track = s.track;
        }
        break;
      case 'GLL':
        if (s.valid && s.lat !== undefined && s.lon !== undefined && s.posMode !== 'N') {
          w.lat = s.lat;
          w.lon = s.lon;
          if (w.mode < 2) w.mode = 2;
        } else if (w.mode === 0) w.mode = 1;
        break;
      case 'VTG':
        if (s.posMode === 'N') break;
        if (s.track !== undefined) w.track = s.track;
        if (s.speedKnots !== undefined) w.speed = s.speedKnots * KNOT;
        else if (s.speedKmh !== undefined) w.speed = s.speedKmh / 3.6;
        break;
      case 'GSA':
        if (s.pdop !== undefined) w.pdop = s.pdop;
        if (s.hdop !== undefined) w.hdop = s.hdop;
        if (s.vdop !== undefined) w.vdop = s.vdop;
        w.gsaUsed += s.prns.length;
        if (s.fixMode !== undefined && s.fixMode >= 2 && s.fixMode <= 3) {
          w.gsaMode = Math.max(w.gsaMode, s.fixMode);
          w.dimensionKnown = true;
        }
        break;
      case 'GSV':
        if (s.inView !== undefined) w.inView.set(s.talker + (s.signalId ?? ''), s.inView);
        break;
      case 'ZDA':
        if (s.year !== undefined && s.month !== undefined && s.day !== undefined && s.year >= 1968) {
          w.date = { y: s.year, m: s.month, d: s.day };
        }
        break;
      case 'GST':
        if (s.stdLat !== undefined && s.stdLon !== undefined) w.gst = Math.hypot(s.stdLat, s.stdLon);
        break;
    }
  }

  private finish(w: Work): NmeaFix {
    if (w.mode === 2 && w.gsaMode === 3) w.mode = 3;
    // like gpsd, an RMC/GLL-only epoch does not downgrade a 3D fix to 2D
    if (w.mode === 2 && !w.dimensionKnown && this.lastMode === 3) w.mode = 3;
    this.lastMode = w.mode;
    const fix: NmeaFix = { mode: w.mode, status: w.mode >= 2 ? w.status : 0, sentences: w.sentences };
    if (w.tod !== undefined) {
      fix.timeOfDayMs = w.tod;
      let dayMs: number | undefined;
      if (w.date) {
        dayMs = ymdToMs(w.date);
      } else if (this.ref) {
        dayMs = ymdToMs(this.ref);
        if (this.lastTod !== undefined && w.tod < this.lastTod - DAY_MS / 2) dayMs += DAY_MS;
      }
      if (dayMs !== undefined && Number.isFinite(dayMs)) {
        this.ref = msToYmd(dayMs);
        this.lastTod = w.tod;
        fix.timeMs = dayMs + w.tod;
        fix.time = new Date(fix.timeMs).toISOString();
      }
    }
    if (w.mode >= 2) {
      fix.lat = w.lat;
      fix.lon = w.lon;
      if (w.mode === 3 && w.altMSL !== undefined) fix.altMSL = w.altMSL;
      if (w.geoidSep !== undefined) fix.geoidSep = w.geoidSep;
      if (w.speed !== undefined) fix.speed = w.speed;
      if (w.track !== undefined) fix.track = w.track;
    }
    if (w.hdop !== undefined) fix.hdop = w.hdop;
    if (w.pdop !== undefined) fix.pdop = w.pdop;
    if (w.vdop !== undefined) fix.vdop = w.vdop;
    const used = w.satellitesUsed ?? (w.gsaUsed > 0 ? w.gsaUsed : undefined);
    if (used !== undefined) fix.satellitesUsed = used;
    if (w.inView.size > 0) fix.satellitesInView = [...w.inView.values()].reduce((a, b) => a + b, 0);
    if (w.mode >= 2) {
      if (w.gst !== undefined) fix.accuracy = w.gst;
      else if (w.hdop !== undefined && w.hdop > 0) fix.accuracy = w.hdop * (fix.status === 2 ? UERE_H_DGPS : UERE_H);
    }
    return fix;
  }
}
