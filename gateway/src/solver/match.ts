/**
 * Exposure rules (BeepTrace step 10) over the GeoIndex. For every record of
 * the endorsed pseudonym-days, candidates near in space and time are measured:
 *   - within `highRadiusM` and overlapping in time: the overlap counts toward
 *     the candidate pseudonym-day's near time (union of intervals, per day);
 *     ≥ `highMinutes` cumulative → high, less → low;
 *   - within `lowRadiusM` and overlapping, or within `highRadiusM` up to
 *     `lowGapMinutes` after the endorsed person left → low;
 *   - same venue in the same hour (venue policy) → `venueRisk`.
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
}

export const DEFAULT_RULES: MatchRules = { highRadiusM: 10, highMinutes: 15, lowRadiusM: 25, lowGapMinutes: 30, venueRisk: 1 };

export function matchRules(partial: Partial<MatchRules> = {}): MatchRules {
  const r = { ...DEFAULT_RULES, ...partial };
  const ok = (x: number) => Number.isFinite(x) && x >= 0;
  if (![r.highRadiusM, r.highMinutes, r.lowRadiusM, r.lowGapMinutes].every(ok) || r.lowRadiusM < r.highRadiusM || ![0, 1, 2].includes(r.venueRisk)) {
    throw new BeepkitError('E_CONFIG', 'solver rules: radii/minutes must be ≥ 0, lowRadiusM ≥ highRadiusM, venueRisk 0|1|2');
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
  const low = new Set<number>();
  const venueHit = new Set<number>();
  const slackS = rules.lowGapMinutes * 60;
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
          if (d <= rules.highRadiusM && to > from) {
            const list = near.get(p);
            if (list) list.push([from, to]);
            else near.set(p, [[from, to]]);
          } else if ((d <= rules.lowRadiusM && to > from) || (d <= rules.highRadiusM && index.start[c] >= eEnd - 1 && index.start[c] - eEnd <= slackS)) low.add(p);
        });
      }
      const v = index.venue[e];
      if (v >= 0 && rules.venueRisk) {
        index.atVenue(v, eStart, eEnd, (c) => {
          if (!skip.has(index.pid[c])) venueHit.add(index.pid[c]);
        });
      }
    }
  }
  const out = new Map<number, Risk>();
  for (const p of venueHit) out.set(p, rules.venueRisk as Risk);
  for (const p of low) if (!out.has(p)) out.set(p, 1);
  for (const [p, iv] of near) out.set(p, unionLength(iv) >= rules.highMinutes * 60 ? 2 : Math.max(out.get(p) ?? 1, 1) as Risk);
  return out;
}
