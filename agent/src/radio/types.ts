/** The agent's radio contract: small, async, typed events. */
import type { EventEmitter } from 'node:events';
import type { AdvertEvent } from '../scan/types.ts';

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

/** Exposure Notification advertising interval, ms (EN Bluetooth Specification v1.2). */
export const EN_INTERVAL_MS = { min: 200, max: 270 } as const;

export interface AdvertiseOptions {
  /**
   * The random address to advertise from ('aa:bb:cc:dd:ee:ff', most significant byte first), set with LE Set
   * Random Address: a non-resolvable private address (top two bits 00) for EN, a resolvable one for the
   * carer's wearable. Omitted: the random address set last (the public one if none was ever set).
   */
  address?: string;
  /** Advertise from the controller's public address (own address type public) instead. */
  publicAddress?: boolean;
  /** ADV_IND (true) or ADV_NONCONN_IND (false, the default). */
  connectable?: boolean;
  /** Advertising interval range, ms (default 200–270, the EN range; 20–10 240 allowed). */
  intervalMs?: { min: number; max: number };
}

export const EN_DUTY_CYCLE = { windowMs: 4_000, periodMs: 240_000 } as const;
