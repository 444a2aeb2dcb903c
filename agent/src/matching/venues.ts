/**
 * Venue exposure: endorsed (infected) venue visits against the agent's own
 * visits. Exposure = overlap of [entry, exit] with the infected stay, the
 * latter extended by `lingerMs` (residual risk after the infected visitor left).
 */
import { DAY_MS, type RiskLevel } from './fingerprints.ts';

export interface VisitLike {
  /** Venue id, hex. */
  venue: string;
  entry: number;
  exit: number;
}

export interface VenueMatchOptions {
  lingerMs?: number;
  /** Overlap at or above this is high risk (default 15 min); shorter overlap is low. */
  highMs?: number;
  /** Overlap below this is ignored (default 0: any overlap counts). */
  minMs?: number;
}

export interface VenueExposure {
  kind: 'venue';
  day: number;
  level: RiskLevel;
  overlapMs: number;
  /** |own entry − infected entry| (Song et al. ΔtC), ms. */
  checkInGapMs: number;
}

export function matchVenues(endorsed: VisitLike[], own: VisitLike[], opts: VenueMatchOptions = {}): VenueExposure[] {
  const linger = opts.lingerMs ?? 0;
  const high = opts.highMs ?? 15 * 60_000;
  const min = opts.minMs ?? 0;
  const byVenue = new Map<string, VisitLike[]>();
  for (const v of endorsed) {
    const list = byVenue.get(v.venue.toLowerCase()) ?? [];
    list.push(v);
    byVenue.set(v.venue.toLowerCase(), list);
  }
  const out: VenueExposure[] = [];
  for (const mine of own) {
    let best: VenueExposure | undefined;
    for (const inf of byVenue.get(mine.venue.toLowerCase()) ?? []) {
      const overlapMs = Math.min(mine.exit, inf.exit + linger) - Math.max(mine.entry, inf.entry);
      if (overlapMs <= 0 || overlapMs < min) continue;
      if (!best || overlapMs > best.overlapMs) {
        best = { kind: 'venue', day: Math.floor(Math.max(mine.entry, inf.entry) / DAY_MS), level: overlapMs >= high ? 'high' : 'low', overlapMs, checkInGapMs: Math.abs(mine.entry - inf.entry) };
      }
    }
    if (best) out.push(best);
  }
  return out;
}
