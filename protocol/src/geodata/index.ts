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
import { Writer } from '../bytes.ts';

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
  w.u16(g.accuracy)
    .u8(g.sources)
    .u8((g.venue ? flags.venue : 0) | (g.perturbed ? flags.perturbed : 0));
  w.bytes(g.venue ?? new Uint8Array(VENUE_ID_LEN), VENUE_ID_LEN);
  return w.finish();
}

/** Slots of `decodeGeodataFields` output. */
export const GEODATA_FIELD = { level: 0, start: 1, end: 2, latE7: 3, lonE7: 4, accuracy: 5, sources: 6, flags: 7 } as const;
/** Offset of the 8-byte venue id in the encoding. */
export const GEODATA_VENUE_OFFSET = 22;
const be32 = (b: Uint8Array, i: number): number => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

/**
 * Validates the encoding at `b[off .. off + GEODATA_LEN)` exactly as
 * decodeGeodata does and writes its fields to `out` (GEODATA_FIELD slots,
 * lat/lon as E7 integers) without allocating; the venue id stays in place at
 * `off + GEODATA_VENUE_OFFSET` (flags bit 0 says whether it is present).
 */
export function decodeGeodataFields(b: Uint8Array, off: number, out: Float64Array): void {
  if (b.length - off < GEODATA_LEN) throw new BeepkitError('E_TRUNCATED', `geodata must be ${GEODATA_LEN} bytes, got ${Math.max(0, b.length - off)}`);
  const v = b[off];
  if (v !== GEODATA_VERSION) throw new BeepkitError('E_VERSION', `geodata: unknown version ${v}`);
  const level = b[off + 1];
  if (level > 5) throw new BeepkitError('E_RANGE', `geodata: unknown level ${level}`);
  const start = be32(b, off + 2);
  const end = be32(b, off + 6);
  if (end < start) throw new BeepkitError('E_RANGE', 'geodata: end before start');
  const latE7 = be32(b, off + 10) | 0;
  const lonE7 = be32(b, off + 14) | 0;
  if (Math.abs(latE7) > 900000000 || Math.abs(lonE7) > 1800000000) throw new BeepkitError('E_RANGE', 'geodata: position out of range');
  const sources = b[off + 20];
  if (sources > ALL_SOURCES) throw new BeepkitError('E_RANGE', 'geodata: unknown source bits');
  const f = b[off + 21];
  if (f > 3) throw new BeepkitError('E_FORMAT', 'geodata: unknown flag bits');
  const hasVenue = (f & flags.venue) !== 0;
  if (!hasVenue) {
    let any = 0;
    for (let i = off + GEODATA_VENUE_OFFSET; i < off + GEODATA_LEN; i++) any |= b[i];
    if (any !== 0) throw new BeepkitError('E_FORMAT', 'geodata: venue bytes without venue flag');
  }
  if (level === Level.venue && (!hasVenue || latE7 !== 0 || lonE7 !== 0))
    throw new BeepkitError('E_FORMAT', 'geodata: venue-only record needs a venue and no position');
  out[0] = level;
  out[1] = start;
  out[2] = end;
  out[3] = latE7;
  out[4] = lonE7;
  out[5] = (b[off + 18] << 8) | b[off + 19];
  out[6] = sources;
  out[7] = f;
}

export function decodeGeodata(b: Uint8Array): Geodata {
  if (b.length !== GEODATA_LEN)
    throw new BeepkitError(b.length < GEODATA_LEN ? 'E_TRUNCATED' : 'E_TRAILING', `geodata must be ${GEODATA_LEN} bytes, got ${b.length}`);
  const x = new Float64Array(8);
  decodeGeodataFields(b, 0, x);
  const g: Geodata = {
    level: x[0] as LevelCode,
    start: x[1],
    end: x[2],
    lat: x[3] / 1e7,
    lon: x[4] / 1e7,
    accuracy: x[5],
    sources: x[6],
    perturbed: (x[7] & flags.perturbed) !== 0,
  };
  if (x[7] & flags.venue) g.venue = b.slice(GEODATA_VENUE_OFFSET, GEODATA_LEN);
  return g;
}
