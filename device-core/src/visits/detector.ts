/**
 * Venue visit detection from verified venue frames, with hysteresis:
 * enter after K frames within T ms with RSSI ≥ the entry threshold (entry
 * time = the first of those frames); exit once no frame at or above the exit
 * threshold (a few dB below the entry one) was seen for X ms (exit time = the
 * last such frame). Weak frames (a beacon heard from far away: free-space
 * path loss lets a café beacon reach ~300 m) never keep a visit open. Pure:
 * time comes from the frames and from tick(now).
 */
import { BeepkitError } from '@beepkit/protocol';

export interface VisitOptions {
  /** K: frames needed to enter (default 3). */
  enterFrames?: number;
  /** T: window those K frames must fall in (default 10 s). */
  enterWindowMs?: number;
  /** RSSI threshold for frames that count towards entry (default −85 dBm). */
  enterRssi?: number;
  /** RSSI a frame needs to keep an open visit alive (default: enterRssi − 6 dB; must be ≤ enterRssi). */
  exitRssi?: number;
  /** X: time without a frame ≥ exitRssi after which a visit ends (default 60 s). */
  exitAfterMs?: number;
}

/** Default hysteresis between the entry and the exit threshold, dB. */
export const EXIT_HYSTERESIS_DB = 6;

export interface Visit {
  /** Venue id, lowercase hex. */
  venueId: string;
  entry: number;
  /** Undefined while the visit is open. */
  exit?: number;
  minAttenuation: number;
  frames: number;
}

export type VisitEvent = { type: 'enter' | 'exit'; visit: Visit };

interface VenueState {
  /** Ring of recent qualifying frame times (length K). */
  recent: Float64Array;
  count: number;
  head: number;
  /** Last frame of any strength (forgetting idle venues). */
  lastSeen: number;
  /** Last frame ≥ exitRssi (keeps an open visit alive). */
  lastStrong: number;
  open: Visit | null;
}

export class VisitDetector {
  readonly k: number;
  readonly windowMs: number;
  readonly rssiThreshold: number;
  readonly exitRssi: number;
  readonly exitMs: number;
  private readonly venues = new Map<string, VenueState>();
  private readonly done: Visit[] = [];

  constructor(opts: VisitOptions = {}) {
    this.k = opts.enterFrames ?? 3;
    this.windowMs = opts.enterWindowMs ?? 10_000;
    this.rssiThreshold = opts.enterRssi ?? -85;
    this.exitMs = opts.exitAfterMs ?? 60_000;
    this.exitRssi = opts.exitRssi ?? this.rssiThreshold - EXIT_HYSTERESIS_DB;
    if (!(this.exitRssi <= this.rssiThreshold)) throw new BeepkitError('E_CONFIG', 'visits: exitRssi must be ≤ enterRssi');
    if (!Number.isInteger(this.k) || this.k < 1) throw new BeepkitError('E_CONFIG', `visits: enterFrames must be a positive integer`);
    if (!(this.windowMs > 0 && this.exitMs > 0)) throw new BeepkitError('E_CONFIG', 'visits: windows must be positive');
  }

  /**
   * A verified frame of `venueId` received at `at` with (filtered) RSSI and
   * attenuation. Returns the events it causes (an exit of a stale visit of this
   * venue, then an entry), usually none.
   */
  observe(venueId: string, rssi: number, att: number, at: number): VisitEvent[] | null {
    let s = this.venues.get(venueId);
    if (!s) {
      s = { recent: new Float64Array(this.k), count: 0, head: 0, lastSeen: -Infinity, lastStrong: -Infinity, open: null };
      this.venues.set(venueId, s);
    }
    let events: VisitEvent[] | null = null;
    if (s.open && at - s.lastStrong >= this.exitMs) events = [this.close(venueId, s)];
    if (at > s.lastSeen) s.lastSeen = at;
    if (s.open && rssi >= this.exitRssi) {
      if (at > s.lastStrong) s.lastStrong = at;
      s.open.frames++;
      if (att < s.open.minAttenuation) s.open.minAttenuation = att;
      return events;
    }
    if (s.open || rssi < this.rssiThreshold) return events;
    s.recent[s.head] = at;
    s.head = (s.head + 1) % this.k;
    if (s.count < this.k) s.count++;
    if (s.count < this.k) return events;
    const oldest = s.recent[s.head]; // ring is full: head points at the oldest
    if (at - oldest > this.windowMs) return events;
    s.open = { venueId, entry: oldest, minAttenuation: att, frames: this.k };
    s.lastStrong = at;
    s.count = 0;
    (events ??= []).push({ type: 'enter', visit: s.open });
    return events;
  }

  /** Closes visits whose venue has not been heard above the exit threshold for X ms. */
  tick(now: number): VisitEvent[] {
    const out: VisitEvent[] = [];
    for (const [id, s] of this.venues) {
      if (s.open && now - s.lastStrong >= this.exitMs) out.push(this.close(id, s));
      else if (!s.open && now - s.lastSeen >= this.exitMs) this.venues.delete(id);
    }
    return out;
  }

  private close(_id: string, s: VenueState): VisitEvent {
    const v = s.open as Visit;
    v.exit = s.lastStrong;
    s.open = null;
    s.count = 0;
    this.done.push(v);
    return { type: 'exit', visit: v };
  }

  /** Open visits. */
  current(): Visit[] {
    const out: Visit[] = [];
    for (const s of this.venues.values()) if (s.open) out.push(s.open);
    return out;
  }

  /** Closed visits, oldest first. */
  visits(): Visit[] {
    return [...this.done];
  }

  /** Drops closed visits that ended before `cutoff` (retention). */
  purge(cutoff: number): number {
    const before = this.done.length;
    let keep = 0;
    for (const v of this.done) if ((v.exit ?? Infinity) >= cutoff) this.done[keep++] = v;
    this.done.length = keep;
    return before - keep;
  }

  /** Restores closed visits (from local storage). */
  restore(visits: Visit[]): void {
    this.done.length = 0;
    this.done.push(...visits.filter((v) => v.exit !== undefined));
  }
}
