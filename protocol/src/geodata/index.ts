/**
 * Geodata: a location fix, its generalisation at a chosen level, and a
 * fixed-size plaintext encoding (GEODATA_LEN bytes at every level, so the
 * TraceCode ciphertext length leaks nothing about the level).
 *
 * Encoding (30 bytes, big-endian):
 *   u8 version=1 | u8 level | u32 start | u32 end | i32 latE7 | i32 lonE7
 *   | u16 accuracy m | u8 sources | u8 flags (bit0 venue present, bit1 perturbed) | 8 venue id
 * Venue-only: lat/lon are 0 and the venue id is mandatory. No venue: 8 zero bytes.
 */
import { createHash } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Reader, Writer } from '../bytes.ts';

export const GEODATA_VERSION = 1;
export const GEODATA_LEN = 30;
export const VENUE_ID_LEN = 8;

export const Source = { gnss: 1, beacon: 2, wifi: 4, cell: 8, peer: 16 } as const;
export const ALL_SOURCES = 0x1f;

export const Level = { exact: 0, grid10: 1, grid50: 2, grid250: 3, grid1000: 4, venue: 5 } as const;
export type LevelCode = (typeof Level)[keyof typeof Level];
export const GRID_METRES: Record<number, number> = { 1: 10, 2: 50, 3: 250, 4: 1000 };
export type LevelName = keyof typeof Level;

export interface Fix {
  /** Time window, Unix seconds. */
  start: number;
  end: number;
  lat: number;
  lon: number;
  /** Horizontal accuracy in metres. */
  accuracy: number;
  /** Bitmask of Source. */
  sources: number;
  /** Optional venue id (8 bytes). */
  venue?: Uint8Array;
}

/** A generalised fix, exactly what the encoding holds. lat/lon are multiples of 1e-7 degree. */
export interface Geodata extends Fix {
  level: LevelCode;
  perturbed: boolean;
}

export interface Perturbation {
  /** Secret seed; the same seed and fix always give the same offset. */
  seed: Uint8Array;
  /** Maximum displacement in metres (uniform over the disk). */
  radius: number;
}

const M_PER_DEG = (Math.PI * 6371008.8) / 180;
const flags = { venue: 1, perturbed: 2 };

export function levelCode(l: LevelName | LevelCode): LevelCode {
  if (typeof l === 'number') {
    if (!Number.isInteger(l) || l < 0 || l > 5) throw new BeepkitError('E_RANGE', `unknown geodata level ${l}`);
    return l;
  }
  if (!(l in Level)) throw new BeepkitError('E_RANGE', `unknown geodata level ${String(l)}`);
  return Level[l];
}

const e7 = (x: number) => Math.round(x * 1e7);
const q7 = (x: number) => e7(x) / 1e7;

/**
 * Snaps a position to the centre of its cell on a local equal-area-ish grid:
 * rows are `metres` tall (in latitude); each row is cut into columns `metres`
 * wide at the row's centre latitude, so every cell covers about metres².
 */
export function snapToGrid(lat: number, lon: number, metres: number): { lat: number; lon: number } {
  const dLat = metres / M_PER_DEG;
  const row = Math.floor((lat + 90) / dLat);
  const cLat = Math.min(90, Math.max(-90, -90 + (row + 0.5) * dLat));
  const cos = Math.max(Math.cos((cLat * Math.PI) / 180), 1e-9);
  const dLon = Math.min(360, metres / (M_PER_DEG * cos));
  const col = Math.floor((lon + 180) / dLon);
  let cLon = -180 + (col + 0.5) * dLon;
  if (cLon > 180) cLon = 180;
  return { lat: q7(cLat), lon: q7(cLon) };
}

/** Deterministic offset within `radius` metres, from HMAC-like SHA-256(seed, fix time). */
export function perturb(lat: number, lon: number, start: number, p: Perturbation): { lat: number; lon: number } {
  const h = createHash('sha256').update('beepkit/geodata/perturb/v1').update(p.seed).update(String(start)).digest();
  const u1 = h.readUInt32BE(0) / 2 ** 32;
  const u2 = h.readUInt32BE(4) / 2 ** 32;
  const r = p.radius * Math.sqrt(u1);
  const a = 2 * Math.PI * u2;
  const dLat = (r * Math.cos(a)) / M_PER_DEG;
  const cos = Math.max(Math.cos((lat * Math.PI) / 180), 1e-9);
  const dLon = (r * Math.sin(a)) / (M_PER_DEG * cos);
  let nLat = lat + dLat;
  if (nLat > 90) nLat = 180 - nLat;
  if (nLat < -90) nLat = -180 - nLat;
  let nLon = lon + dLon;
  nLon = ((((nLon + 180) % 360) + 360) % 360) - 180;
  return { lat: nLat, lon: nLon };
}

/** Generalises a fix at a level, optionally perturbed (perturbation comes before snapping). */
export function generalise(fix: Fix, level: LevelName | LevelCode, opts: { perturb?: Perturbation } = {}): Geodata {
  const code = levelCode(level);
  checkFix(fix);
  const base = { start: fix.start, end: fix.end, sources: fix.sources, level: code, venue: fix.venue?.slice() };
  if (code === Level.venue) {
    if (!fix.venue) throw new BeepkitError('E_RANGE', 'venue-only level needs a venue id');
    return { ...base, lat: 0, lon: 0, accuracy: 0, perturbed: false };
  }
  let { lat, lon } = fix;
  const perturbed = !!opts.perturb && opts.perturb.radius > 0;
  if (perturbed) ({ lat, lon } = perturb(lat, lon, fix.start, opts.perturb!));
  let accuracy = Math.min(0xffff, Math.round(fix.accuracy));
  if (code === Level.exact) return { ...base, lat: q7(lat), lon: q7(lon), accuracy, perturbed };
  const m = GRID_METRES[code];
  accuracy = Math.min(0xffff, Math.max(accuracy, Math.round(m / 2)));
  return { ...base, ...snapToGrid(lat, lon, m), accuracy, perturbed };
}

function checkFix(f: Fix): void {
  const int = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  if (!int(f.start, 0, 0xffffffff) || !int(f.end, 0, 0xffffffff) || f.end < f.start) throw new BeepkitError('E_RANGE', 'fix: bad time window');
  if (!(Math.abs(f.lat) <= 90) || !(Math.abs(f.lon) <= 180)) throw new BeepkitError('E_RANGE', 'fix: position out of range');
  if (!(f.accuracy >= 0)) throw new BeepkitError('E_RANGE', 'fix: bad accuracy');
  if (!int(f.sources, 0, ALL_SOURCES)) throw new BeepkitError('E_RANGE', 'fix: bad sources bitmask');
  if (f.venue !== undefined && f.venue.length !== VENUE_ID_LEN) throw new BeepkitError('E_RANGE', 'fix: venue id must be 8 bytes');
}

export function encodeGeodata(g: Geodata): Uint8Array {
  checkFix(g);
  const level = levelCode(g.level);
  if (level === Level.venue && (!g.venue || g.lat !== 0 || g.lon !== 0)) throw new BeepkitError('E_RANGE', 'venue-only geodata needs a venue and no position');
  if (!Number.isInteger(g.accuracy) || g.accuracy > 0xffff) throw new BeepkitError('E_RANGE', 'geodata: accuracy must be an integer 0..65535');
  const w = new Writer(GEODATA_LEN);
  w.u8(GEODATA_VERSION).u8(level).u32(g.start).u32(g.end).i32(e7(g.lat)).i32(e7(g.lon));
  w.u16(g.accuracy).u8(g.sources).u8((g.venue ? flags.venue : 0) | (g.perturbed ? flags.perturbed : 0));
  w.bytes(g.venue ?? new Uint8Array(VENUE_ID_LEN), VENUE_ID_LEN);
  return w.finish();
}

export function decodeGeodata(b: Uint8Array): Geodata {
  if (b.length !== GEODATA_LEN) throw new BeepkitError(b.length < GEODATA_LEN ? 'E_TRUNCATED' : 'E_TRAILING', `geodata must be ${GEODATA_LEN} bytes, got ${b.length}`);
  const r = new Reader(b, 'geodata');
  const v = r.u8('version');
  if (v !== GEODATA_VERSION) throw new BeepkitError('E_VERSION', `geodata: unknown version ${v}`);
  const level = r.u8('level');
  if (level > 5) throw new BeepkitError('E_RANGE', `geodata: unknown level ${level}`);
  const start = r.u32('start');
  const end = r.u32('end');
  if (end < start) throw new BeepkitError('E_RANGE', 'geodata: end before start');
  const latE7 = r.i32('lat');
  const lonE7 = r.i32('lon');
  if (Math.abs(latE7) > 900000000 || Math.abs(lonE7) > 1800000000) throw new BeepkitError('E_RANGE', 'geodata: position out of range');
  const accuracy = r.u16('accuracy');
  const sources = r.u8('sources');
  if (sources > ALL_SOURCES) throw new BeepkitError('E_RANGE', 'geodata: unknown source bits');
  const f = r.u8('flags');
  if (f > 3) throw new BeepkitError('E_FORMAT', 'geodata: unknown flag bits');
  const venueBytes = r.bytes(VENUE_ID_LEN, 'venue');
  r.end();
  const hasVenue = (f & flags.venue) !== 0;
  if (!hasVenue && venueBytes.some((x) => x !== 0)) throw new BeepkitError('E_FORMAT', 'geodata: venue bytes without venue flag');
  if (level === Level.venue && (!hasVenue || latE7 !== 0 || lonE7 !== 0)) throw new BeepkitError('E_FORMAT', 'geodata: venue-only record needs a venue and no position');
  const g: Geodata = { level: level as LevelCode, start, end, lat: latE7 / 1e7, lon: lonE7 / 1e7, accuracy, sources, perturbed: (f & flags.perturbed) !== 0 };
  if (hasVenue) g.venue = venueBytes;
  return g;
}
