/**
 * Exposure rules (BeepTrace step 10) over the GeoIndex. For every record of
 * the endorsed pseudonym-days, candidates near in space and time are measured:
 *   - within `highRadiusM` and overlapping in time: the overlap counts toward
 *     the candidate pseudonym-day's near time (union of intervals, per day);
 *     ≥ `highMinutes` cumulative → high, less → low;
 *   - within `lowRadiusM` and overlapping, or within `highRadiusM` up to
 *     `lowGapMinutes` after the endorsed person left → low;
 *   - same venue in the same hour (venue policy) → `venueRisk`;
 *   - same venue, overlapping in time, when either record is venue-level (a
 *     device without positioning, e.g. a wearable hearing only beacons, seals
 *     the venue id and no position; devices with GNSS carry the venue id of
 *     the visit they are in beside their position): the overlap counts toward
 *     the pair's venue time (union per pseudonym-day); ≥ `venueHighMinutes`
 *     cumulative → high, less → low. Where both records carry a position the
 *     distance rules above measure it more precisely, so this rule is not
 *     used between them.
 * Distances subtract the positional slack of generalised geodata (half the
 * grid cell of each side); an endorsement's match level coarsens the endorsed
 * side to that grid.
 */
import { BeepkitError } from '@beepkit/protocol';
import { GRID_METRES, snapToGrid } from '@beepkit/protocol/geodata';
import { M_PER_DEG, type GeoIndex } from './geoindex.ts';

export type Risk = 1 | 2;

export interface MatchRules {
  highRadiusM: number;
  highMinutes: number;
  lowRadiusM: number;
  lowGapMinutes: number;
  /** Same venue, same hour; 0 disables. */
  venueRisk: 0 | Risk;
  /** Same venue overlapping this long (cumulative) with a venue-level record on either side → high; 0 disables the overlap rule. */
  venueHighMinutes: number;
}

export const DEFAULT_RULES: MatchRules = { highRadiusM: 10, highMinutes: 15, lowRadiusM: 25, lowGapMinutes: 30, venueRisk: 1, venueHighMinutes: 15 };

export function matchRules(partial: Partial<MatchRules> = {}): MatchRules {
  const r = { ...DEFAULT_RULES, ...partial };
  const ok = (x: number) => Number.isFinite(x) && x >= 0;
  if (
    ![r.highRadiusM, r.highMinutes, r.lowRadiusM, r.lowGapMinutes, r.venueHighMinutes].every(ok) ||
    r.lowRadiusM < r.highRadiusM ||
    ![0, 1, 2].includes(r.venueRisk)
  ) {
    throw new BeepkitError('E_CONFIG', 'solver rules: radii/minutes (venueHighMinutes too) must be ≥ 0, lowRadiusM ≥ highRadiusM, venueRisk 0|1|2');
  }
  return r;
}

function metres(latA: number, lonA: number, latB: number, lonB: number): number {
  const dy = ((latA - latB) / 1e7) * M_PER_DEG;
  const cos = Math.cos(((latA + latB) / 2e7) * (Math.PI / 180));
  const dx = ((lonA - lonB) / 1e7) * M_PER_DEG * cos;
  return Math.sqrt(dx * dx + dy * dy);
}

const half = (level: number) => (GRID_METRES[level] ?? 0) / 2;

/** Union length of [start, end) intervals (sorted in place). */
function unionLength(iv: number[][]): number {
  iv.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let s = -1;
  let e = -1;
  for (const [a, b] of iv) {
    if (a > e) {
      total += e - s;
      s = a;
      e = b;
    } else if (b > e) e = b;
  }
  return total + (e - s);
}

/**
 * Risks of every other pseudonym-day exposed to the endorsed pseudonym-days
 * `endorsed` (ids in `index`). Returns pid → risk.
 */
export function exposures(index: GeoIndex, endorsed: number[], rules: MatchRules, matchLevel = 0): Map<number, Risk> {
  const skip = new Set(endorsed);
  const near = new Map<number, number[][]>();
  const atVenue = new Map<number, number[][]>();
  const low = new Set<number>();
  const venueHit = new Set<number>();
  const slackS = rules.lowGapMinutes * 60;
  const push = (m: Map<number, number[][]>, p: number, from: number, to: number): void => {
    const list = m.get(p);
    if (list) list.push([from, to]);
    else m.set(p, [[from, to]]);
  };
  for (const pid of endorsed) {
    for (const e of index.recordsOf(pid)) {
      const eStart = index.start[e];
      const eEnd = index.end[e];
      const eLevel = Math.max(index.level[e], matchLevel);
      if (index.level[e] !== 5) {
        let lat = index.lat[e];
        let lon = index.lon[e];
        if (matchLevel > index.level[e] && matchLevel <= 4) {
          const s = snapToGrid(lat / 1e7, lon / 1e7, GRID_METRES[matchLevel]);
          lat = Math.round(s.lat * 1e7);
          lon = Math.round(s.lon * 1e7);
        }
        index.near(lat, lon, rules.lowRadiusM + half(eLevel), eStart, eEnd + slackS, (c) => {
          const p = index.pid[c];
          if (skip.has(p) || index.level[c] === 5) return;
          const d = Math.max(0, metres(lat, lon, index.lat[c], index.lon[c]) - half(eLevel) - half(index.level[c]));
          const from = Math.max(eStart, index.start[c]);
          const to = Math.min(eEnd, index.end[c]);
          if (d <= rules.highRadiusM && to > from) push(near, p, from, to);
          else if ((d <= rules.lowRadiusM && to > from) || (d <= rules.highRadiusM && index.start[c] >= eEnd - 1 && index.start[c] - eEnd <= slackS))
            low.add(p);
        });
      }
      const v = index.venue[e];
      if (v >= 0 && (rules.venueRisk || rules.venueHighMinutes)) {
        index.atVenue(v, eStart, eEnd, (c) => {
          const p = index.pid[c];
          if (skip.has(p)) return;
          if (rules.venueRisk) venueHit.add(p);
          if (!rules.venueHighMinutes || (index.level[e] !== 5 && index.level[c] !== 5)) return;
          const from = Math.max(eStart, index.start[c]);
          const to = Math.min(eEnd, index.end[c]);
          if (to > from) push(atVenue, p, from, to);
        });
      }
    }
  }
  const out = new Map<number, Risk>();
  const raise = (p: number, r: Risk): void => {
    if (r > (out.get(p) ?? 0)) out.set(p, r);
  };
  for (const p of venueHit) raise(p, rules.venueRisk as Risk);
  for (const p of low) raise(p, 1);
  for (const [p, iv] of near) raise(p, unionLength(iv) >= rules.highMinutes * 60 ? 2 : 1);
  for (const [p, iv] of atVenue) raise(p, unionLength(iv) >= rules.venueHighMinutes * 60 ? 2 : 1);
  return out;
}
