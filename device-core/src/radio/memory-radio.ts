/**
 * An in-memory Radio and the air it talks on, in the spirit of node-serialport's
 * MockBinding: no controller, no stack, no timers that keep a process alive.
 * Several MemoryRadios joined to one MemoryAir hear each other's adverts: every
 * `intervalMs` (and at once when a radio starts advertising or scanning) each
 * advertising radio's current advert reaches each other radio that scans, with
 * the RSSI the air's `rssi` option gives for that pair. `intervalMs: 0` turns
 * the air's timer off: `tick()` then delivers one round, for tests that step.
 *
 * It keeps the Radio contract the real HciRadio keeps (device-core/test/radio-contract.ts
 * runs the same suite against both): adverts only inside a scan window, the
 * duty cycle, legacy data of at most 31 bytes (E_RANGE), the random address
 * set with an advert (E_FORMAT for a malformed one) and kept for the next,
 * the advertising interval within 20–10 240 ms (E_RANGE), E_CONFIG for a role
 * it has not got or an impossible duty cycle.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol/errors';
import { hostNow } from '@beepkit/protocol/clock';
import type { AddressType, AdvertEvent } from '../scan/types.ts';
import { EN_DUTY_CYCLE, EN_INTERVAL_MS, type AdvertiseOptions, type Radio, type RadioEvents, type ScanOptions } from './types.ts';

const ADDRESS = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

export interface MemoryAirOptions {
  /** The RSSI, dBm, at which `to` hears `from`: a number for every pair, or per pair (default -60). */
  rssi?: number | ((from: MemoryRadio, to: MemoryRadio) => number);
  /** How often each advert goes out, ms (default 100); 0: only at once and on tick(). */
  intervalMs?: number;
}

/** What a MemoryRadio has on air. */
export interface MemoryAdvert {
  data: Uint8Array;
  scanRsp?: Uint8Array;
  address: string;
  addressType: AddressType;
  connectable: boolean;
  intervalMs: { min: number; max: number };
}

export class MemoryAir {
  readonly #radios = new Set<MemoryRadio>();
  readonly #o: MemoryAirOptions;
  #timer: NodeJS.Timeout | null = null;
  /** Adverts delivered, in all. */
  delivered = 0;

  constructor(o: MemoryAirOptions = {}) {
    this.#o = o;
  }

  join(radio: MemoryRadio): void {
    this.#radios.add(radio);
  }

  leave(radio: MemoryRadio): void {
    this.#radios.delete(radio);
    this.changed();
  }

  rssi(from: MemoryRadio, to: MemoryRadio): number {
    const r = this.#o.rssi ?? -60;
    return typeof r === 'number' ? r : r(from, to);
  }

  /** One round: every advertising radio's advert to every other scanning radio. */
  tick(): void {
    const radios = [...this.#radios];
    for (const from of radios) {
      const ad = from.onAir;
      if (!ad) continue;
      for (const to of radios) if (to !== from && to.hears(ad, this.rssi(from, to))) this.delivered++;
    }
  }

  /** A radio started or stopped advertising or scanning: deliver now, and keep the timer running while it matters. */
  changed(): void {
    const radios = [...this.#radios];
    const live = radios.some((r) => r.onAir) && radios.some((r) => r.scanning);
    if (live) queueMicrotask(() => this.tick());
    const ms = this.#o.intervalMs ?? 100;
    if (live && ms > 0 && !this.#timer) {
      this.#timer = setInterval(() => this.tick(), ms);
      this.#timer.unref();
    } else if (!live && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

export interface MemoryRadioOptions {
  /** The air it joins (default: an air of its own). */
  air?: MemoryAir;
  /** The controller's public address (default 0c:00:00:00:00:<n>). */
  address?: string;
  /** Which roles it has (default both), as HciRadio has a scanner and/or an advertiser controller. */
  scanner?: boolean;
  advertiser?: boolean;
  /** Clock for receivedAt (default the host clock, as HciRadio). */
  now?: () => number;
  /** The advertising TX power the "controller" reports, dBm. */
  advTxPower?: number;
}

let serial = 0;

export class MemoryRadio extends EventEmitter<RadioEvents> implements Radio {
  readonly air: MemoryAir;
  readonly address: string;
  readonly advTxPower?: number;
  /** Adverts heard (reported), advertise() calls accepted, resets played. */
  readonly counters = { adverts: 0, advertised: 0, resets: 0 };
  #o: MemoryRadioOptions;
  #started = false;
  #inWindow = false;
  #duty: NodeJS.Timeout | null = null;
  #onAir: MemoryAdvert | null = null;
  #random: string | null = null;

  constructor(o: MemoryRadioOptions = {}) {
    super();
    this.#o = o;
    if (o.scanner === false && o.advertiser === false) throw new BeepkitError('E_CONFIG', 'radio: need a scanner and/or an advertiser controller');
    serial++;
    this.address = (o.address ?? `0c:00:00:00:${(serial >> 8).toString(16).padStart(2, '0')}:${(serial & 0xff).toString(16).padStart(2, '0')}`).toLowerCase();
    if (o.advTxPower !== undefined) this.advTxPower = o.advTxPower;
    this.air = o.air ?? new MemoryAir();
    this.air.join(this);
  }

  get #hasScanner(): boolean {
    return this.#o.scanner !== false;
  }

  get #hasAdvertiser(): boolean {
    return this.#o.advertiser !== false;
  }

  /** The advert on air now (null: not advertising). */
  get onAir(): MemoryAdvert | null {
    return this.#started ? this.#onAir : null;
  }

  /** Inside a scan window now. */
  get scanning(): boolean {
    return this.#started && this.#inWindow;
  }

  async start(): Promise<void> {
    this.#started = true;
    this.air.join(this);
    if (this.#hasScanner) this.emit('state', { role: 'scanner', state: 'poweredOn' });
    if (this.#hasAdvertiser) this.emit('state', { role: 'advertiser', state: 'poweredOn' });
  }

  async stop(): Promise<void> {
    this.#clearDuty();
    this.#inWindow = false;
    this.#onAir = null;
    this.#started = false;
    this.air.leave(this);
  }

  async startScan(opts: ScanOptions = {}): Promise<void> {
    if (!this.#hasScanner || !this.#started) throw new BeepkitError('E_CONFIG', 'radio: no scanner controller');
    this.#clearDuty();
    const duty = opts.dutyCycle ?? EN_DUTY_CYCLE;
    if (duty !== 'continuous' && !(duty.windowMs > 0 && duty.periodMs >= duty.windowMs))
      throw new BeepkitError('E_CONFIG', 'radio: duty cycle needs 0 < windowMs <= periodMs');
    this.#window(true);
    if (duty === 'continuous') return;
    const cycle = (): void => {
      this.#duty = setTimeout(() => {
        this.#window(false);
        this.#duty = setTimeout(() => {
          this.#window(true);
          cycle();
        }, duty.periodMs - duty.windowMs);
        this.#duty.unref();
      }, duty.windowMs);
      this.#duty.unref();
    };
    cycle();
  }

  async stopScan(): Promise<void> {
    this.#clearDuty();
    this.#window(false);
  }

  async advertise(adData: Uint8Array, scanRspData?: Uint8Array, opts: AdvertiseOptions = {}): Promise<void> {
    if (adData.length > 31 || (scanRspData && scanRspData.length > 31)) throw new BeepkitError('E_RANGE', 'radio: legacy advertising data is at most 31 bytes');
    if (!this.#hasAdvertiser || !this.#started) throw new BeepkitError('E_CONFIG', 'radio: no advertiser controller');
    const iv = opts.intervalMs ?? EN_INTERVAL_MS;
    if (!(Math.round(iv.min / 0.625) >= 0x20 && Math.round(iv.max / 0.625) <= 0x4000 && iv.min <= iv.max)) {
      throw new BeepkitError('E_RANGE', `radio: advertising interval ${iv.min}–${iv.max} ms out of 20–10240 ms`);
    }
    if (opts.address !== undefined && !ADDRESS.test(opts.address)) throw new BeepkitError('E_FORMAT', `radio: bad address ${opts.address}`);
    if (opts.address !== undefined) this.#random = opts.address.toLowerCase();
    const random = !opts.publicAddress && this.#random !== null;
    this.#onAir = {
      data: new Uint8Array(adData),
      ...(scanRspData ? { scanRsp: new Uint8Array(scanRspData) } : {}),
      address: random ? this.#random! : this.address,
      addressType: random ? 'random' : 'public',
      connectable: !!opts.connectable,
      intervalMs: { ...iv },
    };
    this.counters.advertised++;
    this.air.changed();
  }

  async stopAdvertising(): Promise<void> {
    this.#onAir = null;
    this.air.changed();
  }

  /** The air delivers `ad` at `rssi`: reported when inside a scan window. */
  hears(ad: MemoryAdvert, rssi: number): boolean {
    if (!this.scanning) return false;
    this.counters.adverts++;
    const ev: AdvertEvent = {
      address: ad.address,
      addressType: ad.addressType,
      rssi,
      data: new Uint8Array(ad.data),
      connectable: ad.connectable,
      receivedAt: (this.#o.now ?? hostNow)(),
    };
    this.emit('advert', ev);
    return true;
  }

  /**
   * The controller resets under the host (as a VirtualController's resetState): what it advertised and its random
   * address are gone, `state` reports the reset (resetDetected) and the roles come back on; the scan goes on, as
   * HciRadio restarts it when the scanner is back.
   */
  reset(): void {
    this.counters.resets++;
    this.#onAir = null;
    this.#random = null;
    for (const role of ['scanner', 'advertiser'] as const) {
      if (role === 'scanner' ? !this.#hasScanner : !this.#hasAdvertiser) continue;
      this.emit('state', { role, state: 'resetting', resetDetected: true });
      this.emit('state', { role, state: 'poweredOn' });
    }
    this.air.changed();
  }

  #window(on: boolean): void {
    this.#inWindow = on;
    this.air.changed();
  }

  #clearDuty(): void {
    if (this.#duty) clearTimeout(this.#duty);
    this.#duty = null;
  }
}
