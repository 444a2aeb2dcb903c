/**
 * Local East-North-Up frame around a WGS84 origin. Small-area approximation
 * (equirectangular on the WGS84 ellipsoid's local radii): error < 1 cm over a
 * few km, which is what a venue-scale scenario needs.
 */
export interface LatLon {
  lat: number;
  lon: number;
}
export interface Enu {
  x: number; // metres east
  y: number; // metres north
}

const A = 6378137.0; // WGS84 semi-major axis
const E2 = 6.69437999014e-3; // first eccentricity squared

function radii(latDeg: number): { n: number; m: number } {
  const s = Math.sin((latDeg * Math.PI) / 180);
  const w = Math.sqrt(1 - E2 * s * s);
  return { n: A / w, m: (A * (1 - E2)) / (w * w * w) };
}

export function toEnu(origin: LatLon, p: LatLon): Enu {
  const { n, m } = radii(origin.lat);
  const dLat = ((p.lat - origin.lat) * Math.PI) / 180;
  const dLon = ((p.lon - origin.lon) * Math.PI) / 180;
  return { x: dLon * n * Math.cos((origin.lat * Math.PI) / 180), y: dLat * m };
}

export function toLatLon(origin: LatLon, p: Enu): LatLon {
  const { n, m } = radii(origin.lat);
  return {
    lat: origin.lat + ((p.y / m) * 180) / Math.PI,
    lon: origin.lon + ((p.x / (n * Math.cos((origin.lat * Math.PI) / 180))) * 180) / Math.PI,
  };
}

export function distance(a: Enu, b: Enu): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
