/**
 * Location fixes from independent sources (GNSS, venue beacons, pluggable
 * others) and their fusion: inverse-variance weighted mean in a local
 * tangent plane. Pure, time injected.
 */
import type { VenueObservation, VenueRegistry } from '@beepkit/device-core/scan';

/** The fields of device-core/src/gnss GnssFix that trust uses (structural, so any GnssFix fits). */
export interface GnssFixLike {
  source: string;
  usable: boolean;
  mode: number;
  lat?: number;
  lon?: number;
  hdop?: number;
  satellitesUsed?: number;
  accuracy?: number;
  timeMs?: number;
  receivedAt: number;
}

export interface LocationFix {
  /** Source kind; fixes of different kinds are independent ("gnss", "venue", "wifi", "cell", …). */
  source: string;
  lat: number;
  lon: number;
  /** 1-σ horizontal accuracy, metres. */
  accuracyM: number;
  /** When the fix was taken (host clock, ms). */
  at: number;
  /** Source-specific reference (venue id, gnss source, …). */
  ref?: string;
}

const R_EARTH = 6_371_008.8;
const rad = (d: number) => (d * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * R_EARTH * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Moves a position by east/north metres (small offsets). */
export function offsetM(p: { lat: number; lon: number }, eastM: number, northM: number): { lat: number; lon: number } {
  return { lat: p.lat + (northM / R_EARTH) * (180 / Math.PI), lon: p.lon + (eastM / (R_EARTH * Math.cos(rad(p.lat)))) * (180 / Math.PI) };
}

/** A GNSS fix as a LocationFix, or null when it has no usable position. */
export function gnssToFix(f: GnssFixLike, uereM = 5): LocationFix | null {
  if (!f.usable || f.lat === undefined || f.lon === undefined) return null;
  const acc = f.accuracy ?? (f.hdop !== undefined ? f.hdop * uereM : undefined);
  if (acc === undefined || !(acc > 0)) return null;
  return { source: 'gnss', lat: f.lat, lon: f.lon, accuracyM: acc, at: f.receivedAt, ref: f.source };
}

/** A genuine venue frame as a LocationFix at the venue's registered position (accuracy = its radius). */
export function venueToFix(o: VenueObservation, registry: VenueRegistry): LocationFix | null {
  const v = registry.get(o.venueId);
  if (!v) return null;
  return { source: 'venue', lat: v.lat, lon: v.lon, accuracyM: v.radiusM, at: o.receivedAt, ref: o.venueId };
}

export interface FusedLocation {
  lat: number;
  lon: number;
  accuracyM: number;
  sources: string[];
  at: number;
}

/** Inverse-variance weighted fusion of fixes (assumed independent and agreeing). Null for none. */
export function fuse(fixes: readonly LocationFix[]): FusedLocation | null {
  if (!fixes.length) return null;
  const o = fixes[0];
  let wSum = 0;
  let e = 0;
  let n = 0;
  let at = -Infinity;
  for (const f of fixes) {
    const w = 1 / (f.accuracyM * f.accuracyM);
    const d = distanceM(o, { lat: o.lat, lon: f.lon }) * Math.sign(f.lon - o.lon);
    const dn = distanceM(o, { lat: f.lat, lon: o.lon }) * Math.sign(f.lat - o.lat);
    e += w * d;
    n += w * dn;
    wSum += w;
    if (f.at > at) at = f.at;
  }
  const p = offsetM(o, e / wSum, n / wSum);
  return { ...p, accuracyM: Math.sqrt(1 / wSum), sources: [...new Set(fixes.map((f) => f.source))].sort(), at };
}
