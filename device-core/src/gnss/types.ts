/** The agent's GNSS source contract: typed events, a fix with its quality model, states, counters. */
import type { EventEmitter } from 'node:events';
import type { NmeaFix } from '@beepkit/protocol/nmea';

export type GnssSourceKind = 'serial' | 'gpsd' | 'replay';
export type GnssState = 'connecting' | 'open' | 'silent' | 'closed' | 'reconnecting';

/** An epoch fix (see NmeaFix for the fields) with its source and quality verdict. */
export interface GnssFix extends Omit<NmeaFix, 'sentences' | 'timeOfDayMs'> {
  source: GnssSourceKind;
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
