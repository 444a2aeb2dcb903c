/**
 * What this device shared with a diagnostician (BeepTrace steps 7–8): the
 * pseudonyms it proved, the TEKs and the venue visits in its consent bundles.
 * The notification chain then carries exposures *caused by* that endorsement,
 * which match the device itself (its own visit, its own pseudonym-days next
 * to their endorsed copies, its own TEKs if it ever heard itself): the
 * SelfMatcher drops those so a patient is not alerted about herself.
 *   - exposure notices: own prefixes of shared pseudonym-days are not matched
 *     (a diagnosed person gets no further exposure alerts for those days);
 *   - endorsed TEKs equal to a shared TEK are dropped;
 *   - venue exposures of a shared visit (same venue, start = its entry, end
 *     ≥ its exit: the venue's surface residual is added) are dropped.
 * Pure; storage lives with the agent's other sealed logs (app/storage.ts).
 */
import { toHex } from '@beepkit/protocol/bytes';
import type { Consent } from '@beepkit/protocol/endorse';
import type { EndorsedTek, OwnPrefix, VisitLike } from '../matching/index.ts';

export interface SharedRecord {
  /** Pseudonym-days proved: day and prefix (hex). */
  prefixes: { day: number; prefix: string }[];
  /** TEKs (hex) with their rolling start. */
  teks: { tek: string; rollingStart: number }[];
  /** Venue visits: venue id as the visit log spells it, Unix seconds. */
  visits: { venueId: string; entry: number; exit: number }[];
}

export const emptyShared = (): SharedRecord => ({ prefixes: [], teks: [], visits: [] });

/** The record of one consent bundle; `venueIdOf` maps its 8-byte venue ids to visit-log ids. */
export function sharedFromConsent(c: Consent, venueIdOf: (venue: Uint8Array) => string = toHex): SharedRecord {
  return {
    prefixes: c.days.map((d) => ({ day: d.day, prefix: toHex(d.pseudonym) })),
    teks: c.teks.map((k) => ({ tek: toHex(k.tek), rollingStart: k.rollingStart })),
    visits: c.visits.map((v) => ({ venueId: venueIdOf(v.venue), entry: v.entry, exit: v.exit })),
  };
}

/** Union of two records (no duplicates). */
export function mergeShared(a: SharedRecord, b: SharedRecord): SharedRecord {
  const uniq = <T>(xs: T[]): T[] => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];
  return { prefixes: uniq([...a.prefixes, ...b.prefixes]), teks: uniq([...a.teks, ...b.teks]), visits: uniq([...a.visits, ...b.visits]) };
}

/** Drops what the device's own endorsement caused. */
export class SharedFilter {
  readonly #prefixes: Set<string>;
  readonly #teks: Set<string>;
  readonly #visits: SharedRecord['visits'];

  constructor(rec: SharedRecord) {
    this.#prefixes = new Set(rec.prefixes.map((p) => `${p.day}:${p.prefix}`));
    this.#teks = new Set(rec.teks.map((k) => `${k.rollingStart}:${k.tek}`));
    this.#visits = rec.visits;
  }

  ownPrefixes(list: OwnPrefix[]): OwnPrefix[] {
    return this.#prefixes.size ? list.filter((p) => !this.#prefixes.has(`${p.day}:${toHex(p.prefix)}`)) : list;
  }

  teks(list: EndorsedTek[]): EndorsedTek[] {
    return this.#teks.size ? list.filter((k) => !this.#teks.has(`${k.rollingStart}:${toHex(k.tek)}`)) : list;
  }

  /** Endorsed visits (ms, as the SelfMatcher builds them) not caused by a shared visit. */
  visits(list: VisitLike[]): VisitLike[] {
    if (!this.#visits.length) return list;
    return list.filter((e) => !this.#visits.some((s) => s.venueId === e.venueId && s.entry * 1000 === e.entry && (e.exit ?? Infinity) >= s.exit * 1000));
  }
}
