/** The agent's radio contract: small, async, typed events. */
import type { EventEmitter } from 'node:events';
import type { AdvertEvent } from '../scan/types.ts';
import type { AdvertiseOptions } from './bleno-port.ts';

export type RadioPower = 'poweredOn' | 'poweredOff' | 'unknown' | 'unsupported' | 'unauthorized' | 'resetting';

export interface RadioStateEvent {
  /** Which controller: the scanner (noble) or the advertiser (bleno). */
  role: 'scanner' | 'advertiser';
  state: RadioPower;
  /** True when the controller was reset under us (scanning/advertising is being restored). */
  resetDetected?: boolean;
}

export interface ScanOptions {
  /** Report every advert (needed for RSSI series and for connectable adverts without SCAN_RSP). Default true. */
  allowDuplicates?: boolean;
  /**
   * Scan duty cycle: scan `windowMs` every `periodMs` (EN-like default: 4 s every 4 min).
   * `continuous` scans all the time (field-test mode).
   */
  dutyCycle?: { windowMs: number; periodMs: number } | 'continuous';
}

export interface RadioEvents {
  advert: [AdvertEvent];
  state: [RadioStateEvent];
}

export interface Radio extends EventEmitter<RadioEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  startScan(opts?: ScanOptions): Promise<void>;
  stopScan(): Promise<void>;
  /**
   * Legacy advertising of ≤ 31 bytes (+ ≤ 31 bytes scan response) by standard HCI commands: ADV_NONCONN_IND
   * unless `opts.connectable`, from the random address `opts.address` (set while advertising is off, so the
   * address and the payload go on air together), at `opts.intervalMs` (default 200–270 ms).
   */
  advertise(adData: Uint8Array, scanRspData?: Uint8Array, opts?: AdvertiseOptions): Promise<void>;
  stopAdvertising(): Promise<void>;
  /** The advertiser controller's advertising TX power, dBm, as read from it (undefined: unknown). */
  readonly advTxPower?: number;
}

/** Where a stack finds its controller. */
export type HciTarget = { uart: string; baudRate?: number } | { hciIndex: number };

export const EN_DUTY_CYCLE = { windowMs: 4_000, periodMs: 240_000 } as const;
