/**
 * One self-matching pass (BeepTrace step 12): own fingerprints against the
 * notification blocks, endorsed TEKs against the encounter log, endorsed venue
 * visits against own visits, turned into alerts (no identifiers inside).
 */
import {
  OwnFingerprints,
  matchFingerprints,
  matchTeks,
  matchVenues,
  type EncounterLike,
  type EndorsedTek,
  type FingerprintBlock,
  type OwnPrefix,
  type VenueMatchOptions,
  type VisitLike,
} from '../matching/index.ts';
import { bluetoothAlerts, fingerprintAlerts, venueAlerts, type Alert, type AlertOptions } from './model.ts';

export interface AssessInput {
  now: number;
  ownPrefixes?: OwnPrefix[];
  blocks?: FingerprintBlock[];
  endorsedTeks?: EndorsedTek[];
  encounters?: EncounterLike[];
  endorsedVisits?: VisitLike[];
  ownVisits?: VisitLike[];
  retentionDays?: number;
  venue?: VenueMatchOptions;
  alert?: AlertOptions;
}

export function assessExposure(i: AssessInput): Alert[] {
  const alerts: Alert[] = [];
  if (i.ownPrefixes?.length && i.blocks?.length) {
    const own = new OwnFingerprints(i.ownPrefixes, { now: i.now, retentionDays: i.retentionDays });
    alerts.push(...fingerprintAlerts(i.blocks.flatMap((b) => matchFingerprints(own, b))));
  }
  if (i.endorsedTeks?.length && i.encounters?.length) alerts.push(...bluetoothAlerts(matchTeks(i.endorsedTeks, i.encounters), i.alert));
  if (i.endorsedVisits?.length && i.ownVisits?.length)
    alerts.push(...venueAlerts(matchVenues(i.endorsedVisits, i.ownVisits, { now: i.now, ...i.venue }), i.alert));
  // one alert per (kind, day): the highest level wins
  const best = new Map<string, Alert>();
  for (const a of alerts) {
    const k = `${a.kind}|${a.day}`;
    const prev = best.get(k);
    if (!prev || (a.level === 'high' && prev.level !== 'high')) best.set(k, a);
  }
  // kinds are ASCII words: compared by code unit (localeCompare would load ICU's collator for the same order)
  return [...best.values()].sort((a, b) => a.day - b.day || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}
