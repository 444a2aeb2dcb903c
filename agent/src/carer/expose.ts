/**
 * What the carer's agent does for a paired wearable, as plain functions the
 * app wires in: upload its TraceCodes (hand them to an outbox, grouped by UTC
 * day so batches are signed with the wearable's pseudonym of that day), match
 * notification blocks against the wearable's own fingerprints and endorsed TEKs
 * against the EN encounters it delivered, and word the alerts so they name the
 * person cared for.
 */
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { fromHex } from '@beepkit/protocol/bytes';
import type { Outbox, AppendResult } from '@beepkit/device-core/outbox';
import { OwnFingerprints, matchFingerprints, type EndorsedTek, type FingerprintBlock, type OwnPrefix } from '../matching/index.ts';
import { assessExposure, fingerprintAlerts, type Alert, type AlertOptions } from '../alerts/index.ts';
import type { CarerStore } from './store.ts';
import type { WearableRecord } from './client.ts';

/** Hands wearable records to an outbox (group = UTC day). Use one outbox per wearable: its batches are signed by the wearable's pseudonym. */
export function handToOutbox(outbox: Outbox, records: WearableRecord[]): Promise<AppendResult> {
  return outbox.append(records.map((r) => ({ bytes: r.bytes, group: r.day })));
}

/** The wearable's pseudonym prefixes of the days the carer holds (feed to OwnFingerprints). */
export function wearablePrefixes(store: CarerStore, wearableId: string): OwnPrefix[] {
  return store.dayKeys(wearableId).map((d) => ({ day: d.day, prefix: new Ed25519Signer(d.signingSeed).publicKey }));
}

/** The wearable's own fingerprints of the last `retentionDays` (default 14) as of `nowMs`. */
export function wearableFingerprints(store: CarerStore, wearableId: string, nowMs: number, retentionDays = 14): OwnFingerprints {
  return new OwnFingerprints(wearablePrefixes(store, wearableId), { now: nowMs, retentionDays });
}

/** The signing seed of the wearable's pseudonym of `day` (for signing its upload batches), if held. */
export function wearableSigningSeed(store: CarerStore, wearableId: string, day: number): Uint8Array | undefined {
  const d = store.find(wearableId).days.find((x) => x.day === day);
  return d ? fromHex(d.signingSeed) : undefined;
}

export interface CarerAlert extends Alert {
  /** The person cared for (the wearable's label). */
  person: string;
  wearableId: string;
}

/** Alerts naming the person cared for. */
export function labelAlerts(label: string, wearableId: string, alerts: Alert[]): CarerAlert[] {
  const third = (x: string) => x.replace(/\byou were\b/, `${label} was`).replace(/\byou spent\b/, `${label} spent`);
  return alerts.map((a) => ({ ...a, person: label, wearableId, explanation: `${label}: ${third(a.explanation)}` }));
}

/** Self-matches one notification block for every paired wearable; alerts name the person. */
export function matchForWearables(store: CarerStore, block: FingerprintBlock, nowMs: number): CarerAlert[] {
  return store
    .list()
    .flatMap((w) => labelAlerts(w.label, w.wearableId, fingerprintAlerts(matchFingerprints(wearableFingerprints(store, w.wearableId, nowMs), block))));
}

/**
 * Endorsed TEKs against the EN encounters each paired wearable delivered (within retention as of
 * `nowMs`), as the agent matches its own (assessExposure: one alert per day, highest level); alerts name the person.
 */
export function matchTeksForWearables(store: CarerStore, teks: EndorsedTek[], nowMs: number, alert?: AlertOptions): CarerAlert[] {
  if (!teks.length) return [];
  const cutoff = nowMs - store.encounters.retentionMs;
  return store.list().flatMap((w) => {
    const encounters = store.encounters.list(w.wearableId).filter((e) => e.lastSeen >= cutoff);
    return encounters.length ? labelAlerts(w.label, w.wearableId, assessExposure({ now: nowMs, endorsedTeks: teks, encounters, alert })) : [];
  });
}
