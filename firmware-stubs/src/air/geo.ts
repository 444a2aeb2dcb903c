/**
 * WGS84 latitude/longitude ↔ local ENU (east, north, up; metres) around an
 * origin, so GNSS fixes and BLE positions agree. Tangent-plane approximation
 * with the ellipsoid's meridional and prime-vertical radii at the origin:
 * sub-centimetre error within a few kilometres, which is all a venue needs.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface LatLon {
  lat: number;
  lon: number;
  alt?: number;
}
export interface Enu {
  x: number;
  y: number;
  z?: number;
}

const A = 6378137; // WGS84 semi-major axis
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const RAD = Math.PI / 180;

function radii(latDeg: number): { m: number; n: number } {
  const s = Math.sin(latDeg * RAD);
  const w = 1 - E2 * s * s;
  return { m: (A * (1 - E2)) / Math.pow(w, 1.5), n: A / Math.sqrt(w) };
}

function check(p: LatLon, what: string): void {
  if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon) || Math.abs(p.lat) > 90 || Math.abs(p.lon) > 180) {
    throw new BeepkitError('E_RANGE', `${what}: invalid latitude/longitude ${p.lat},${p.lon}`);
  }
}

export function latLonToEnu(origin: LatLon, p: LatLon): Enu {
  check(origin, 'origin');
  check(p, 'position');
  const { m, n } = radii(origin.lat);
  let dLon = p.lon - origin.lon;
  if (dLon > 180) dLon -= 360;
  if (dLon < -180) dLon += 360;
  return {
    x: dLon * RAD * n * Math.cos(origin.lat * RAD),
    y: (p.lat - origin.lat) * RAD * m,
    z: (p.alt ?? 0) - (origin.alt ?? 0),
  };
}

export function enuToLatLon(origin: LatLon, e: Enu): LatLon {
  check(origin, 'origin');
  const { m, n } = radii(origin.lat);
  let lon = origin.lon + e.x / (n * Math.cos(origin.lat * RAD)) / RAD;
  if (lon > 180) lon -= 360;
  if (lon < -180) lon += 360;
  return { lat: origin.lat + e.y / m / RAD, lon, alt: (origin.alt ?? 0) + (e.z ?? 0) };
}

export function distanceM(a: Enu, b: Enu): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  const dz = (a.z ?? 0) - (b.z ?? 0);
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}
