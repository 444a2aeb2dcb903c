/**
 * Self-matching of verified notification blocks: the entries (protocol
 * endorse NotificationEntry: exposure notices, endorsed TEKs, venue
 * exposures) go through agent matching (assessExposure) and the resulting
 * alerts to the AlertDispatcher. Entries of other kinds (venue state,
 * revocations) and undecodable ones are skipped and counted. Exposures caused
 * by the device's own endorsement (what it shared: see shared.ts) are dropped
 * and counted as `selfDropped`.
 */
import { toHex } from '@beepkit/protocol';
import { decodeNotificationEntry, isNotificationEntry, type NotificationEntry } from '@beepkit/protocol/endorse';
import { assessExposure, type Alert, type AlertOptions } from '../alerts/index.ts';
import { packFingerprintBlock, type EncounterLike, type EndorsedTek, type OwnPrefix, type VenueMatchOptions, type VisitLike } from '../matching/index.ts';
import type { VerifiedBlock } from './follower.ts';
import { SharedFilter, type SharedRecord } from './shared.ts';
import { hostNow } from '@beepkit/protocol/clock';

export interface SelfMatchOptions {
  /** Where alerts go (AlertDispatcher fits). */
  dispatcher: { dispatch(alerts: Alert[]): Promise<unknown> };
  /** The agent's own pseudonym prefixes of the retention window. */
  ownPrefixes: () => OwnPrefix[];
  encounters?: () => EncounterLike[];
  ownVisits?: () => VisitLike[];
  /** Clock, ms (default Date.now). */
  now: () => number;
  /** Entry decoder (default protocol endorse; undefined = not for self-matching). */
  decode?: (data: Uint8Array) => NotificationEntry | undefined;
  /** Venue id as the visit log spells it (default: lowercase hex of the 8 bytes). */
  venueIdOf?: (venue: Uint8Array) => string;
  retentionDays?: number;
  /** What this device shared with a diagnostician, read at match time (consent runs in another process). */
  shared?: () => SharedRecord | undefined | Promise<SharedRecord | undefined>;
  venue?: VenueMatchOptions;
  alert?: AlertOptions;
}

export function decodeEntry(data: Uint8Array): NotificationEntry | undefined {
  return isNotificationEntry(data) ? decodeNotificationEntry(data) : undefined;
}

export class SelfMatcher {
  readonly counters = { blocks: 0, exposures: 0, teks: 0, venueExposures: 0, skipped: 0, undecodable: 0, alerts: 0, selfDropped: 0 };
  constructor(private readonly o: SelfMatchOptions) {}

  /** Matches one verified block and dispatches its alerts (returned). */
  async onBlock(b: VerifiedBlock): Promise<Alert[]> {
    this.counters.blocks++;
    let fps: { fingerprint: Uint8Array; level: 'low' | 'high'; day: number }[] = [];
    let teks: EndorsedTek[] = [];
    let visits: VisitLike[] = [];
    const venueId = this.o.venueIdOf ?? toHex;
    for (const data of b.entries) {
      let e: NotificationEntry | undefined;
      try {
        e = (this.o.decode ?? decodeEntry)(data);
      } catch {
        this.counters.undecodable++;
        continue;
      }
      if (e?.type === 'exposure') fps.push({ fingerprint: e.fingerprint, level: e.risk === 2 ? 'high' : 'low', day: e.day });
      else if (e?.type === 'tek') teks.push({ tek: e.tek, rollingStart: e.rollingStart });
      else if (e?.type === 'venue-exposure') visits.push({ venueId: venueId(e.venue), entry: e.start * 1000, exit: e.end * 1000 });
      else this.counters.skipped++;
    }
    this.counters.exposures += fps.length;
    this.counters.teks += teks.length;
    this.counters.venueExposures += visits.length;
    if (!fps.length && !teks.length && !visits.length) return [];
    const rec = await this.o.shared?.();
    const self = rec ? new SharedFilter(rec) : undefined;
    let ownPrefixes = fps.length ? this.o.ownPrefixes() : [];
    if (self) {
      const n = ownPrefixes.length + teks.length + visits.length;
      ownPrefixes = self.ownPrefixes(ownPrefixes);
      teks = self.teks(teks);
      visits = self.visits(visits);
      this.counters.selfDropped += n - ownPrefixes.length - teks.length - visits.length;
      if (!ownPrefixes.length) fps = [];
    }
    const alerts = assessExposure({
      now: (this.o.now ?? hostNow)(),
      ownPrefixes,
      blocks: fps.length ? [packFingerprintBlock(fps)] : [],
      endorsedTeks: teks,
      encounters: teks.length ? (this.o.encounters?.() ?? []) : [],
      endorsedVisits: visits,
      ownVisits: visits.length ? (this.o.ownVisits?.() ?? []) : [],
      retentionDays: this.o.retentionDays,
      venue: this.o.venue,
      alert: this.o.alert,
    });
    this.counters.alerts += alerts.length;
    if (alerts.length) await this.o.dispatcher.dispatch(alerts);
    return alerts;
  }
}
