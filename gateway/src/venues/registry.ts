/**
 * Venue infection state machine (Song et al.):
 *   empty → infected (an infected visitor checks in, or a past visitor is diagnosed)
 *   infected → clean (14 days after the last infected visit, or cleaned and
 *              signed off with the venue's key) → infected again.
 * Pure: an injected clock, no timers; `tick()` emits due expiries. Every state
 * change (and every infected stay, as a venue exposure window extended by the
 * venue surface's virus residual time) is a notification-chain entry handed to
 * the sink. Regions roll up as state/county/city/venue.
 */
import { BeepkitError } from '@beepkit/protocol';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { VENUE_ID6_BYTES, venueId8 } from '@beepkit/protocol/frames';
import { encodeNotificationEntry, verifyVenueSignoff, type NotificationEntry, type StateReason, type VenueStateName } from '@beepkit/protocol/endorse';
import { MATERIAL_HOURS, type Material } from '@beepkit/protocol/risk';
import type { NotificationSink } from '../solver/source.ts';

/** The clock skew allowed to a venue's sign-off, both ways (dated ahead of the gateway, or before the infection). */
export const SIGNOFF_SKEW_MS = 300_000;

export type Surface = Material | 'stainless-steel';

export interface VenueInfo {
  /** "state/county/city" (the venue is the leaf). */
  region: string;
  surface?: Surface;
  /** Ed25519 public key that signs cleaning sign-offs. */
  signoffKey?: Uint8Array;
}

export interface VenueStatus {
  state: VenueStateName;
  sinceMs: number;
}

interface Venue extends VenueInfo {
  state: VenueStateName;
  sinceMs: number;
  /** When an infected venue turns clean by itself (ms). */
  untilMs: number;
}

export interface VenueRegistryOptions {
  sink?: NotificationSink;
  /** Clock, ms. */
  now: () => number;
  infectiousDays?: number;
}

/** Residual hours of a surface class (Song et al.: aerosol 3 … plastic 72). */
export function residualHours(surface: Surface | undefined): number {
  const key = surface === 'stainless-steel' ? 'stainlessSteel' : (surface ?? 'aerosol');
  const h = MATERIAL_HOURS[key];
  if (h === undefined) throw new BeepkitError('E_CONFIG', `unknown venue surface ${String(surface)}`);
  return h;
}

/** Venues are kept by their 8-byte id (protocol venueId8); a 6-byte frame venue id is accepted too. */
const idHex = (id: Uint8Array | string): string => {
  const b = typeof id === 'string' ? fromHex(id.toLowerCase(), 'venue id') : id;
  return toHex(b.length === VENUE_ID6_BYTES ? venueId8(b) : b);
};

export class VenueRegistry {
  private readonly venues = new Map<string, Venue>();
  private readonly o: VenueRegistryOptions;
  constructor(o: VenueRegistryOptions) {
    this.o = o;
  }

  register(id: Uint8Array | string, info: VenueInfo): void {
    if (info.surface !== undefined) residualHours(info.surface);
    const k = idHex(id);
    if (k.length !== 16) throw new BeepkitError('E_RANGE', 'venue id must be 8 bytes');
    const old = this.venues.get(k);
    this.venues.set(k, { state: 'empty', sinceMs: 0, untilMs: 0, ...old, ...info });
  }

  private venue(id: Uint8Array | string): Venue {
    const k = idHex(id);
    let v = this.venues.get(k);
    if (!v) {
      v = { region: 'unknown/unknown/unknown', state: 'empty', sinceMs: 0, untilMs: 0 };
      this.venues.set(k, v);
    }
    return v;
  }

  /** The state of a venue at `nowMs` (lazily expired; unknown venues are empty). */
  venueState(id: Uint8Array | string, nowMs = this.o.now()): VenueStatus {
    const v = this.venues.get(idHex(id));
    if (!v) return { state: 'empty', sinceMs: 0 };
    if (v.state === 'infected' && nowMs >= v.untilMs) return { state: 'clean', sinceMs: v.untilMs };
    return { state: v.state, sinceMs: v.sinceMs };
  }

  /** A venue's region and keys (undefined: not registered). */
  info(id: Uint8Array | string): VenueInfo | undefined {
    const v = this.venues.get(idHex(id));
    return v && { region: v.region, surface: v.surface, signoffKey: v.signoffKey };
  }

  /** Forgets a venue's sign-off key (a revoked venue signs no more sign-offs). */
  revokeKey(id: Uint8Array | string): void {
    const v = this.venues.get(idHex(id));
    if (v) v.signoffKey = undefined;
  }

  /**
   * A transition decided elsewhere (the consortium chain's VenueRegistry, venues/chain.ts):
   * applied when not older than the venue's current state (the latest transition wins), never
   * re-published. Nothing goes back to empty: `empty` only dates an empty venue (its registration).
   * False when not applied.
   */
  applyTransition(id: Uint8Array | string, state: VenueStateName, sinceMs: number): boolean {
    const v = this.venue(id);
    if (sinceMs < v.sinceMs || (state === 'empty' && v.state !== 'empty')) return false;
    v.state = state;
    v.sinceMs = sinceMs;
    if (state === 'infected') v.untilMs = Math.max(v.untilMs, sinceMs + (this.o.infectiousDays ?? 14) * 86_400_000);
    return true;
  }

  /** A hook for the feed's VenueStatusQuery handler. */
  statusHook(): (venueId: Uint8Array) => VenueStatus {
    return (id) => this.venueState(id);
  }

  /**
   * An infected stay at a venue (a checked-in infected visitor, or an endorsed
   * past visit): publishes the exposure window (exit extended by the surface
   * residual time) and, if needed, the change to infected. Unix seconds in.
   */
  async infectedVisit(
    id: Uint8Array | string,
    entry: number,
    exit: number,
    reason: Extract<StateReason, 'visit' | 'report'> = 'report',
  ): Promise<NotificationEntry[]> {
    if (!(exit >= entry)) throw new BeepkitError('E_RANGE', 'venue visit: exit before entry');
    await this.tick();
    const v = this.venue(id);
    const venue = fromHex(idHex(id), 'venue id');
    const out: NotificationEntry[] = [{ type: 'venue-exposure', venue, start: entry, end: exit + residualHours(v.surface) * 3600 }];
    const nowMs = this.o.now();
    const until = exit * 1000 + (this.o.infectiousDays ?? 14) * 86_400_000;
    if (until > nowMs) {
      if (v.state !== 'infected') {
        v.state = 'infected';
        v.sinceMs = nowMs;
        out.push({ type: 'venue-state', venue, state: 'infected', since: Math.floor(nowMs / 1000), reason });
      }
      v.untilMs = Math.max(v.untilMs, until);
    }
    await this.emit(out);
    return out;
  }

  /**
   * A cleaning sign-off signed by the venue's key turns an infected venue clean.
   * With `notAfterMs`, a sign-off dated later is E_RANGE; one dated more than
   * SIGNOFF_SKEW_MS before the venue turned infected is E_REPLAY (an old sign-off
   * cannot clean a new infection). The allowance is the clock skew tolerated the other
   * way: a venue device a second behind the gateway, or a sign-off in the same second
   * (sign-offs carry whole seconds), was refused. The venue is clean from the later of
   * the two times, so the chain's states stay in order.
   */
  async signoff(bytes: Uint8Array, notAfterMs?: number): Promise<NotificationEntry[]> {
    const s = (() => {
      const probe = bytes.length >= 10 ? toHex(bytes.subarray(2, 10)) : '';
      const key = this.venues.get(probe)?.signoffKey;
      if (!key) throw new BeepkitError('E_KEY', 'venue signoff: venue has no registered sign-off key');
      return verifyVenueSignoff(bytes, key);
    })();
    await this.tick();
    const v = this.venue(s.venue);
    if (notAfterMs !== undefined && s.time * 1000 > notAfterMs) throw new BeepkitError('E_RANGE', 'venue signoff: dated in the future');
    if (v.state !== 'infected') return [];
    if (notAfterMs !== undefined && s.time * 1000 + SIGNOFF_SKEW_MS < v.sinceMs)
      throw new BeepkitError('E_REPLAY', 'venue signoff: dated before the venue turned infected');
    return this.change(s.venue, v, 'clean', Math.max(s.time * 1000, v.sinceMs), 'signoff');
  }

  /** Emits due expiries (infected → clean after the infectious window). */
  async tick(): Promise<NotificationEntry[]> {
    const nowMs = this.o.now();
    const out: NotificationEntry[] = [];
    for (const [k, v] of this.venues) {
      if (v.state === 'infected' && nowMs >= v.untilMs) out.push(...(await this.change(fromHex(k), v, 'clean', v.untilMs, 'expiry')));
    }
    return out;
  }

  private async change(venue: Uint8Array, v: Venue, state: VenueStateName, sinceMs: number, reason: StateReason): Promise<NotificationEntry[]> {
    v.state = state;
    v.sinceMs = sinceMs;
    const e: NotificationEntry[] = [{ type: 'venue-state', venue, state, since: Math.floor(sinceMs / 1000), reason }];
    await this.emit(e);
    return e;
  }

  private async emit(entries: NotificationEntry[]): Promise<void> {
    if (this.o.sink && entries.length) await this.o.sink.publish(entries.map(encodeNotificationEntry));
  }

  /** Rebuilds states from notification-chain venue-state entries (in chain order). */
  replay(entries: NotificationEntry[]): void {
    for (const e of entries) {
      if (e.type !== 'venue-state') continue;
      const v = this.venue(e.venue);
      v.state = e.state;
      v.sinceMs = e.since * 1000;
      if (e.state === 'infected') v.untilMs = Math.max(v.untilMs, e.since * 1000 + (this.o.infectiousDays ?? 14) * 86_400_000);
    }
  }

  /**
   * Counts per region prefix at a depth (1 state, 2 county, 3 city):
   * path → { empty, infected, clean }.
   */
  rollup(depth: 1 | 2 | 3, nowMs = this.o.now()): Map<string, Record<VenueStateName, number>> {
    const out = new Map<string, Record<VenueStateName, number>>();
    for (const [k, v] of this.venues) {
      const path = v.region.split('/').slice(0, depth).join('/');
      const row = out.get(path) ?? { empty: 0, infected: 0, clean: 0 };
      row[this.venueState(k, nowMs).state]++;
      out.set(path, row);
    }
    return out;
  }

  /** Venues under a region prefix with their states. */
  list(regionPrefix = '', nowMs = this.o.now()): { id: string; region: string; status: VenueStatus }[] {
    return [...this.venues]
      .filter(([, v]) => v.region === regionPrefix || v.region.startsWith(regionPrefix ? regionPrefix + '/' : ''))
      .map(([id, v]) => ({ id, region: v.region, status: this.venueState(id, nowMs) }));
  }
}
