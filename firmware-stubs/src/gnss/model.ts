/**
 * Receiver model for the GNSS emulator: sky (satellites with az/el/SNR), fix evolution (cold start → 2D
 * → 3D), DOPs, seeded receiver noise, and the NMEA 0183 4.11 sentences of one epoch. Pure apart from
 * its seeded RNG state.
 */
import { encodeSentence } from '@beepkit/protocol/nmea';
import { mulberry32 } from '../scenario/rng.ts';

export interface Position {
  lat: number;
  lon: number;
  /** metres above mean sea level */
  alt: number;
}
export interface Waypoint extends Position {
  /** ms since the emulator's start time */
  t: number;
}
/** Truth position at `t` ms after start, or a waypoint list (linear interpolation, clamped). */
export type Trajectory = ((t: number) => Position) | readonly Waypoint[];

export type SentenceType = 'GGA' | 'RMC' | 'GSA' | 'GSV' | 'VTG' | 'GLL' | 'ZDA';
export const ALL_SENTENCES: readonly SentenceType[] = ['RMC', 'VTG', 'GGA', 'GSA', 'GSV', 'GLL', 'ZDA'];

/** Seeded PRNG (the scenario runner's mulberry32). */
export const seededRng = mulberry32;
function gauss(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function trajectoryAt(tr: Trajectory, t: number): Position {
  if (typeof tr === 'function') return tr(t);
  if (tr.length === 0) return { lat: 0, lon: 0, alt: 0 };
  if (t <= tr[0]!.t) return tr[0]!;
  for (let i = 1; i < tr.length; i++) {
    const b = tr[i]!;
    if (t <= b.t) {
      const a = tr[i - 1]!;
      const k = b.t === a.t ? 1 : (t - a.t) / (b.t - a.t);
      return { lat: a.lat + (b.lat - a.lat) * k, lon: a.lon + (b.lon - a.lon) * k, alt: a.alt + (b.alt - a.alt) * k };
    }
  }
  return tr[tr.length - 1]!;
}

interface Sat {
  talker: 'GP' | 'GL' | 'GA' | 'GB';
  systemId: number;
  prn: number;
  az0: number;
  el0: number;
}

/** A fixed constellation snapshot that drifts slowly (1°/min in azimuth). */
function makeSky(rng: () => number): Sat[] {
  const sats: Sat[] = [];
  const add = (talker: Sat['talker'], systemId: number, prns: number[]) => {
    for (const prn of prns) sats.push({ talker, systemId, prn, az0: Math.floor(rng() * 360), el0: 5 + Math.floor(rng() * 80) });
  };
  add('GP', 1, [2, 5, 7, 9, 13, 15, 18, 20, 24, 29]);
  add('GL', 2, [65, 66, 72, 80, 81]);
  add('GA', 3, [4, 9, 11, 19]);
  add('GB', 4, [6, 14, 21, 33]);
  return sats;
}

export interface EpochState {
  /** UTC ms */
  time: number;
  /** 1 no fix, 2 2D, 3 3D */
  mode: 1 | 2 | 3;
  /** GGA quality (0 none, 1 GPS, 2 DGPS) */
  quality: number;
  position: Position;
  /** m/s and degrees */
  speed: number;
  track: number;
  used: number;
  hdop: number;
  pdop: number;
  vdop: number;
}

function dm(v: number, isLat: boolean): [string, string] {
  const a = Math.abs(v);
  const deg = Math.floor(a);
  const min = (a - deg) * 60;
  const d = String(deg).padStart(isLat ? 2 : 3, '0');
  return [d + min.toFixed(5).padStart(8, '0'), isLat ? (v < 0 ? 'S' : 'N') : v < 0 ? 'W' : 'E'];
}
function hms(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${String(Math.floor(d.getUTCMilliseconds() / 10)).padStart(2, '0')}`;
}
function ddmmyy(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
}

export class ReceiverModel {
  private readonly rng: () => number;
  private readonly sky: Sat[];

  constructor(
    seed: number,
    private readonly noiseM: number,
  ) {
    this.rng = seededRng(seed);
    this.sky = makeSky(this.rng);
  }

  /** Position with receiver noise (σ = noiseM scaled by hdop). */
  noisy(p: Position, hdop: number): Position {
    const s = this.noiseM * hdop;
    const dn = gauss(this.rng) * s;
    const de = gauss(this.rng) * s;
    const du = gauss(this.rng) * s * 1.5;
    return { lat: p.lat + dn / 111_320, lon: p.lon + de / (111_320 * Math.max(Math.cos((p.lat * Math.PI) / 180), 1e-6)), alt: p.alt + du };
  }

  /** Satellites in view at `elapsed` ms since start, with SNR (weak while acquiring). */
  satellites(elapsed: number, acquiring: boolean): { sat: Sat; az: number; el: number; snr: number | undefined }[] {
    return this.sky.map((sat) => {
      const az = Math.round((sat.az0 + elapsed / 60_000) % 360);
      const el = Math.round(sat.el0);
      const base = 20 + el / 4;
      const snr = acquiring && this.rng() < 0.5 ? undefined : Math.round(Math.max(10, base + gauss(this.rng) * 2));
      return { sat, az, el, snr };
    });
  }

  /** All NMEA 4.11 sentences of one epoch (each `$…*hh\r\n`), filtered by `enabled`. */
  sentences(st: EpochState, elapsed: number, enabled: (t: SentenceType) => boolean, talker = 'GN'): string[] {
    const out: string[] = [];
    const fix = st.mode >= 2;
    const [la, ns] = fix ? dm(st.position.lat, true) : ['', ''];
    const [lo, ew] = fix ? dm(st.position.lon, false) : ['', ''];
    const t = hms(st.time);
    const faa = !fix ? 'N' : st.quality === 2 ? 'D' : 'A';
    const kn = (st.speed * 3600) / 1852;
    const sats = this.satellites(elapsed, !fix);
    if (enabled('RMC'))
      out.push(
        encodeSentence(talker, 'RMC', [
          t,
          fix ? 'A' : 'V',
          la,
          ns,
          lo,
          ew,
          fix ? kn.toFixed(3) : '',
          fix ? st.track.toFixed(2) : '',
          ddmmyy(st.time),
          '',
          '',
          faa,
          'V',
        ]),
      );
    if (enabled('VTG'))
      out.push(
        encodeSentence(talker, 'VTG', [
          fix ? st.track.toFixed(2) : '',
          'T',
          '',
          'M',
          fix ? kn.toFixed(3) : '',
          'N',
          fix ? (st.speed * 3.6).toFixed(3) : '',
          'K',
          faa,
        ]),
      );
    if (enabled('GGA')) {
      const alt = st.mode === 3 ? st.position.alt.toFixed(1) : '';
      out.push(
        encodeSentence(talker, 'GGA', [
          t,
          la,
          ns,
          lo,
          ew,
          fix ? st.quality : 0,
          String(st.used).padStart(2, '0'),
          st.hdop.toFixed(2),
          alt,
          'M',
          st.mode === 3 ? '32.0' : '',
          'M',
          '',
          '',
        ]),
      );
    }
    if (enabled('GSA')) {
      let left = st.used;
      for (const id of [1, 2, 3, 4]) {
        const prns = fix ? sats.filter((s) => s.sat.systemId === id && s.snr !== undefined).map((s) => s.sat.prn) : [];
        const use = prns.slice(0, Math.min(12, Math.max(0, left)));
        left -= use.length;
        const f: (string | number)[] = ['A', st.mode, ...use.map((p) => String(p).padStart(2, '0'))];
        while (f.length < 14) f.push('');
        out.push(encodeSentence(talker, 'GSA', [...f, st.pdop.toFixed(2), st.hdop.toFixed(2), st.vdop.toFixed(2), id]));
      }
    }
    if (enabled('GSV')) {
      for (const tk of ['GP', 'GL', 'GA', 'GB'] as const) {
        const group = sats.filter((s) => s.sat.talker === tk);
        const n = Math.max(1, Math.ceil(group.length / 4));
        for (let i = 0; i < n; i++) {
          const f: (string | number)[] = [n, i + 1, String(group.length).padStart(2, '0')];
          for (const s of group.slice(i * 4, i * 4 + 4))
            f.push(
              String(s.sat.prn).padStart(2, '0'),
              String(s.el).padStart(2, '0'),
              String(s.az).padStart(3, '0'),
              s.snr === undefined ? '' : String(s.snr).padStart(2, '0'),
            );
          out.push(encodeSentence(tk, 'GSV', [...f, 1]));
        }
      }
    }
    if (enabled('GLL')) out.push(encodeSentence(talker, 'GLL', [la, ns, lo, ew, t, fix ? 'A' : 'V', faa]));
    if (enabled('ZDA')) {
      const d = new Date(st.time);
      out.push(
        encodeSentence(talker, 'ZDA', [
          t,
          String(d.getUTCDate()).padStart(2, '0'),
          String(d.getUTCMonth() + 1).padStart(2, '0'),
          d.getUTCFullYear(),
          '00',
          '00',
        ]),
      );
    }
    return out;
  }

  /** Used-satellite count and DOPs for a fix mode (noisy, plausible). */
  geometry(mode: 1 | 2 | 3): { used: number; hdop: number; pdop: number; vdop: number } {
    if (mode === 1) return { used: 0, hdop: 99.99, pdop: 99.99, vdop: 99.99 };
    const used = mode === 2 ? 3 : 9 + Math.floor(this.rng() * 6);
    const hdop = Math.round((0.5 + 5 / used + this.rng() * 0.2) * 100) / 100;
    return { used, hdop, pdop: Math.round(hdop * 1.7 * 100) / 100, vdop: Math.round(hdop * 1.4 * 100) / 100 };
  }

  /** Random bytes for the garbage fault (no `$`/`!`, so they never fake a sentence start). */
  garbage(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      let v = Math.floor(this.rng() * 256);
      if (v === 0x24 || v === 0x21) v = 0x7e;
      b[i] = v;
    }
    return b;
  }
}
