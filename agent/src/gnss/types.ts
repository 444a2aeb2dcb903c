/** The agent's GNSS source contract: typed events, a fix with its quality model, states, counters. */
import type { EventEmitter } from 'node:events';

export type GnssSourceKind = 'serial' | 'gpsd' | 'replay';
export type GnssState = 'connecting' | 'open' | 'silent' | 'closed' | 'reconnecting';

export interface GnssFix {
  source: GnssSourceKind;
  /** ISO 8601 UTC (ms) and epoch ms; absent while the receiver's date is unknown. */
  time?: string;
  timeMs?: number;
  /** 1 no fix, 2 2D, 3 3D (0 unknown) */
  mode: 0 | 1 | 2 | 3;
  /** gpsd TPV status (0 unknown, 1 GPS, 2 DGPS, 3 RTK fixed, 4 RTK float, 5 DR, …) */
  status: number;
  lat?: number;
  lon?: number;
  altMSL?: number;
  speed?: number;
  track?: number;
  hdop?: number;
  pdop?: number;
  vdop?: number;
  satellitesUsed?: number;
  satellitesInView?: number;
  /** Horizontal accuracy estimate in metres (GST σ, gpsd eph, or hdop × UERE). */
  accuracy?: number;
  /** True only for a valid, fresh fix with a position, a time and mode ≥ 2. */
  usable: boolean;
  /** Why not usable: no-fix, no-position, no-time, stale. */
  reason?: string;
  /** Host clock when the epoch was completed. */
  receivedAt: number;
}

export interface GnssStateChange {
  state: GnssState;
  reason: string;
}

export interface GnssReject {
  code: string;
  message: string;
  line: string;
}

export interface GnssSourceEvents {
  fix: [GnssFix];
  state: [GnssStateChange];
  reject: [GnssReject];
}

export interface GnssSource extends EventEmitter<GnssSourceEvents> {
  readonly kind: GnssSourceKind;
  readonly state: GnssState;
  /** Counts: lines, sentences, fixes, usable, and one per rejection code (E_CHECKSUM …). */
  readonly counters: Readonly<Record<string, number>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
