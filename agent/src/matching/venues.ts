/**
 * Venue exposure: endorsed (infected) venue visits against the agent's own
 * visits. Exposure = overlap of [entry, exit] with the infected stay, the
 * latter extended by `lingerMs` (residual risk after the infected visitor left).
 */
import { DAY_MS, type RiskLevel } from './fingerprints.ts';

/** Structural subset of device-core/src/visits Visit (an open visit has no exit yet). */
export interface VisitLike {
  /** Venue id, hex. */
  venueId: string;
  entry: number;
  exit?: number;
}

export interface VenueMatchOptions {
  /** End of still-open visits (default: their entry, i.e. no exposure yet). */
  now?: number;
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
    const list = byVenue.get(v.venueId.toLowerCase()) ?? [];
    list.push(v);
    byVenue.set(v.venueId.toLowerCase(), list);
  }
  const out: VenueExposure[] = [];
  for (const mine of own) {
    let best: VenueExposure | undefined;
    const exit = mine.exit ?? opts.now ?? mine.entry;
    for (const inf of byVenue.get(mine.venueId.toLowerCase()) ?? []) {
      const overlapMs = Math.min(exit, (inf.exit ?? inf.entry) + linger) - Math.max(mine.entry, inf.entry);
      if (overlapMs <= 0 || overlapMs < min) continue;
      if (!best || overlapMs > best.overlapMs) {
        best = {
          kind: 'venue',
          day: Math.floor(Math.max(mine.entry, inf.entry) / DAY_MS),
          level: overlapMs >= high ? 'high' : 'low',
          overlapMs,
          checkInGapMs: Math.abs(mine.entry - inf.entry),
        };
      }
    }
    if (best) out.push(best);
  }
  return out;
}
