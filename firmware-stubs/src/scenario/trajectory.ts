/**
 * Trajectories: timed waypoints in the local ENU frame. A device is at its
 * first waypoint before it, at its last after it, and moves in a straight line
 * at constant speed between consecutive waypoints. Pure functions.
 */
import type { Enu } from './geo.ts';

export interface Waypoint extends Enu {
  /** Scenario time in seconds from the scenario start. */
  t: number;
}

export function positionAt(path: readonly Waypoint[], t: number): Enu {
  if (path.length === 0) return { x: 0, y: 0 };
  if (t <= path[0].t) return { x: path[0].x, y: path[0].y };
  for (let i = 1; i < path.length; i++) {
    const b = path[i];
    if (t <= b.t) {
      const a = path[i - 1];
      const f = b.t === a.t ? 1 : (t - a.t) / (b.t - a.t);
      return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
    }
  }
  const last = path[path.length - 1];
  return { x: last.x, y: last.y };
}

/** Velocity (m/s east, north) at t: the slope of the current leg, zero when parked. */
export function velocityAt(path: readonly Waypoint[], t: number): Enu {
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1];
    const b = path[i];
    if (t >= a.t && t < b.t && b.t > a.t) return { x: (b.x - a.x) / (b.t - a.t), y: (b.y - a.y) / (b.t - a.t) };
  }
  return { x: 0, y: 0 };
}

/** Speed in m/s and course in degrees true (0 = north) at t. */
export function motionAt(path: readonly Waypoint[], t: number): { speed: number; course: number } {
  const v = velocityAt(path, t);
  const speed = Math.hypot(v.x, v.y);
  const course = speed === 0 ? 0 : ((Math.atan2(v.x, v.y) * 180) / Math.PI + 360) % 360;
  return { speed, course };
}
