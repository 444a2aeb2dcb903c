/** The agent's radio contract: small, async, typed events. */
import type { EventEmitter } from 'node:events';
import type { MessageLink } from '@beepkit/protocol/carer';
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
  /**
   * A GATT central on the scanner's own controller (one host per controller), not yet started; its scans are leased
   * from the radio, so finding a peripheral never stops the radio's own scan. Absent: the radio has no central.
   */
  gattCentral?(powerOnTimeoutMs?: number): GattCentralPort;
}

/** Which peripheral to find: an address, or a test (a paired wearable's resolvable private address). */
export type PeripheralMatch = string | ((address: string) => boolean);

/**
 * The GATT central role (the carer): finds peripherals advertising the beepkit pairing service (`seen(address)` for
 * each such advert while anyone scans) and opens a MessageLink over the pairing characteristic. Implementations:
 * GattCentral (noble; HciRadio.gattCentral() shares the scanner's controller).
 */
export interface GattCentralPort extends EventEmitter<{ seen: [string] }> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Scans until a matching peripheral advertises the pairing service: its address. E_TIMEOUT, E_ABORTED (signal). */
  find(timeoutMs?: number, address?: PeripheralMatch, signal?: AbortSignal): Promise<string>;
  /** Connects to a peripheral found (E_NOT_FOUND otherwise); the link closes when the connection drops. */
  connect(address: string): Promise<MessageLink>;
  /** find() then connect(), finding it again once when the connect fails (the address may have rotated). */
  reach(timeoutMs: number, address?: PeripheralMatch, signal?: AbortSignal): Promise<{ address: string; link: MessageLink }>;
}

export interface PeripheralEvents {
  link: [MessageLink];
  state: [string];
  /** Advertising or the address change failed (the next rotation tries again). */
  warning: [string];
}

/**
 * The GATT peripheral role (the wearable): serves the pairing service, emits `link` per connection, and takes turns
 * between the EN advert and the connectable pairing advert. Implementation: the wearable's GattPeripheral (bleno).
 */
export interface GattPeripheralPort extends EventEmitter<PeripheralEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * What to advertise: the EN advert `ad` from `enAddress` (null: none), and the pairing advert from `pairingAs`
   * (a resolvable private address of the carer pairing, 'public' for the controller's own address, null: none).
   */
  advertiseEn(ad: Uint8Array | null, enAddress?: string, pairingAs?: string | 'public' | null): void;
  /** The address the pairing advert goes out from now (null: none). */
  readonly currentAddress: string | null;
  /** The controller's advertising TX power, dBm, once read. */
  readonly advTxPower?: number;
  /** Drops the open link, if any. */
  disconnect(): void;
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
