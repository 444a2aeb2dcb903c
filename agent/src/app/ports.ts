/**
 * What the Agent needs from its network side (MQTT client, CA client,
 * uplink, notification follower), as a small interface so the service can
 * run without a broker, with the real MQTT pieces (network.ts) or with a
 * test double.
 */
import type { CaRequestSigner, EvidenceBundle } from '../trust/index.ts';
import type { Logger } from '../alerts/logger.ts';
import type { Alert } from '../alerts/index.ts';
import type { AgentConfig } from '../config/index.ts';
import type { Outbox } from '@beepkit/device-core/outbox';
import type { EncounterLike, OwnPrefix, VisitLike } from '../matching/index.ts';
import type { SharedRecord } from '../follow/shared.ts';
import type { AlertSink } from '../alerts/index.ts';
import type { CarerStore, WearableProxy } from '../carer/index.ts';

/** A certificate held for a day (the ca-client's StoredCertificate). */
export interface HeldCertificate {
  day: number;
  certificate: Uint8Array;
  solverPublicKey: Uint8Array;
  solverKeyId: Uint8Array;
}

export interface AgentNetwork {
  readonly state: string;
  /** Set when a part stopped for good (the uplink loop's fatal error): /healthz turns 503. */
  readonly failure?: string;
  counters(): Record<string, number>;
  /** When the last verified receipt arrived (the network's clock, ms); `beepkit doctor`'s uplink check. */
  readonly lastReceiptMs?: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The certificate held for `day`, if any. */
  certificate(day: number): HeldCertificate | undefined;
  /** Sends a signed CA request built from the evidence; throws a coded BeepkitError on refusal. */
  authorise(evidence: EvidenceBundle, signer: CaRequestSigner): Promise<HeldCertificate>;
  /** Uploads what the outbox holds (called when the upload policy allows). */
  flush?(): Promise<void>;
  /** Forgets certificates of days before `firstDay`. */
  purgeBefore?(firstDay: number): Promise<void>;
  /** Acts for the paired wearables (when the agent is a carer). */
  wearables?: WearableProxy;
  /** The gateway's state of a venue (6-byte id, hex): VenueStatusQuery on the agent's own connection. */
  venueStatus?(venueId: string, timeoutMs?: number): Promise<{ state: string; sinceMs: number }>;
}

export interface NetworkContext {
  config: AgentConfig;
  deviceId: string;
  outbox: Outbox;
  logger: Logger;
  now: () => number;
  /** Alerts found by self-matching (the follower) go here. */
  raise: (alerts: Alert[]) => Promise<void>;
  /** Own material for self-matching, read at match time. */
  ownPrefixes: () => OwnPrefix[];
  encounters: () => EncounterLike[];
  ownVisits: () => VisitLike[];
  /** What this device shared with diagnosticians (its own endorsement must not alert it). */
  shared?: () => Promise<SharedRecord>;
  /** The day's keys for signing upload batches. */
  dayKeys: (day: number) => { signingSeed: Uint8Array; ephemeralPub: Uint8Array };
  /** The upload policy's last word. */
  mayUpload: () => boolean;
  /** Paired wearables to act for (carer): their uploads and alerts (agent/src/carer/proxy.ts). */
  carer?: { store: CarerStore; sinks: AlertSink[]; key?: Uint8Array };
}

export type NetworkFactory = (ctx: NetworkContext) => AgentNetwork | Promise<AgentNetwork>;
