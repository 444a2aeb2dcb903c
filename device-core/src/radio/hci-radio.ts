/**
 * Radio over the real host stacks: @stoprocent/noble scans, the advertiser
 * sends standard HCI advertising commands through bleno's transport
 * (bleno-port.ts), each over the HCI bindings (UART port — a USB dongle or the
 * virtual controller's PTY — or a native HCI index on a Pi). noble is loaded
 * by noble-port.ts, bleno by bleno-port.ts. One controller per stack
 * when the transport is UART (one host per port).
 *
 * Raw advertising data: noble's `discover` only gives a parsed, merged
 * advertisement and follows duplicate/scan-response rules (design note §2.2),
 * so the radio listens to the HCI layer's advertising reports of noble's
 * bindings instead (one event per report, raw AD bytes). Pinned to noble 2.8.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import type { AdvertEvent } from '../scan/types.ts';
import { GattCentral } from './gatt-central.ts';
import {
  EN_DUTY_CYCLE,
  type AdvertiseOptions,
  type GattCentralPort,
  type HciTarget,
  type Radio,
  type RadioEvents,
  type RadioPower,
  type ScanOptions,
} from './types.ts';
import { HciCommander, openBleno, readLocalVersion, type ControllerVersion, type LegacyAdvertiser } from './bleno-port.ts';
import { hciBindingOptions } from './binding.ts';
import { forgetStalePeers, openNoble } from './noble-port.ts';
import { hostNow } from '@beepkit/protocol/clock';
import { tapHciSocket, type BtsnoopWriter } from './btsnoop.ts';

export type { HciTarget };

export interface HciRadioOptions {
  scanner?: HciTarget;
  advertiser?: HciTarget;
  logger?: Logger;
  /** Clock for receivedAt (default Date.now). */
  now: () => number;
  /** Capture both controllers' HCI traffic (`--btsnoop <file>`). */
  btsnoop?: BtsnoopWriter;
  /** How long start() waits for poweredOn (default 15 s). */
  powerOnTimeoutMs?: number;
  /** Test seam: builds the stacks instead of requiring noble/bleno (receives the binding options). */
  stacks?: { noble?: (opts: Record<string, unknown>) => any; bleno?: (opts: Record<string, unknown>) => any };
  /** Peers not heard for this long (ms of `now`) leave noble's caches, swept every `forgetSweepMs` real ms (default 5 min, 60 s; 0: never). */
  forgetAfterMs?: number;
  forgetSweepMs?: number;
}

const SCAN_RSP = 0x04;

function waitState(stack: EventEmitter & { state?: string; _state?: string }, ms: number, what: string): Promise<void> {
  if (stack.state === 'poweredOn' || stack._state === 'poweredOn') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stack.removeListener('stateChange', on);
      reject(new BeepkitError('E_IO', `${what}: controller not poweredOn within ${ms} ms`));
    }, ms);
    const on = (s: string) => {
      if (s === 'poweredOn') {
        clearTimeout(timer);
        stack.removeListener('stateChange', on);
        resolve();
      } else if (s === 'unsupported' || s === 'unauthorized') {
        clearTimeout(timer);
        stack.removeListener('stateChange', on);
        reject(new BeepkitError('E_IO', `${what}: controller ${s}`));
      }
    };
    stack.on('stateChange', on);
  });
}

export class HciRadio extends EventEmitter<RadioEvents> implements Radio {
  private noble: any = null;
  private bleno: any = null;
  private advertiser: LegacyAdvertiser | null = null;
  /** The advertiser controller's advertising TX power, dBm, read at start (undefined: not read / no advertiser). */
  advTxPower?: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private scanWanted: ScanOptions | null = null;
  private scanning = false;
  private inWindow = false;
  private dutyTimer: NodeJS.Timeout | null = null;
  private hooked: unknown = null;
  private nobleState: RadioPower = 'unknown';
  /** Scan leases held by a GATT central sharing the scanner stack (it scans while any is held). */
  private leases = 0;
  private blenoState: RadioPower = 'unknown';
  /** When each address (lowercase) was last heard, for forgetStalePeers. */
  private readonly heard = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  readonly counters = { adverts: 0, scanResponses: 0, resets: 0, scanRestarts: 0, forgotten: 0 };

  constructor(private readonly o: HciRadioOptions) {
    super();
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? hostNow;
    if (!o.scanner && !o.advertiser) throw new BeepkitError('E_CONFIG', 'radio: need a scanner and/or an advertiser controller');
  }

  async start(): Promise<void> {
    process.setMaxListeners(0); // each stack instance adds exit/SIGINT listeners
    const timeout = this.o.powerOnTimeoutMs ?? 15_000;
    const waits: Promise<void>[] = [];
    if (this.o.scanner) {
      const opts = hciBindingOptions(this.o.scanner);
      this.noble = this.o.stacks?.noble ? this.o.stacks.noble(opts) : openNoble(opts);
      this.noble.on('stateChange', (s: RadioPower) => this.onNobleState(s));
      // noble builds its HCI layer on the tick after the first state listener and writes its first commands at once:
      // the tap goes on right after (those first few commands are not captured; their Command Completes are)
      const bindings = this.noble._bindings;
      const snoop = this.o.btsnoop;
      if (snoop && bindings && typeof bindings.start === 'function') {
        const start = bindings.start.bind(bindings);
        bindings.start = (...args: unknown[]) => {
          const r = start(...args);
          tapHciSocket(bindings._hci?._socket, snoop, 'scan');
          return r;
        };
      }
      this.noble.on('scanStop', () => this.onScanStop());
      waits.push(waitState(this.noble, timeout, 'scanner'));
    }
    if (this.o.advertiser) {
      const port = openBleno(this.o.advertiser, this.o.stacks?.bleno, this.o.btsnoop);
      this.bleno = port.bleno;
      this.advertiser = port.advertiser;
      this.bleno.on('stateChange', (s: RadioPower) => this.onBlenoState(s));
      waits.push(waitState(this.bleno, timeout, 'advertiser'));
    }
    await Promise.all(waits);
    this.hookReports();
    const forgetAfter = this.o.forgetAfterMs ?? 300_000;
    if (this.noble && forgetAfter > 0) {
      this.sweepTimer = setInterval(() => this.forgetStale(forgetAfter), this.o.forgetSweepMs ?? 60_000);
      this.sweepTimer.unref();
    }
    if (this.advertiser) await this.readTxPower();
  }

  /** Reads the advertiser controller's TX power (LE Read Advertising Physical Channel Tx Power). */
  async readTxPower(): Promise<number | undefined> {
    if (!this.advertiser) return undefined;
    try {
      this.advTxPower = await this.advertiser.readTxPower();
    } catch (err) {
      this.log.warn({ code: (err as BeepkitError).code, err: (err as Error).message }, 'radio: could not read the advertising TX power');
    }
    return this.advTxPower;
  }

  /** Subscribes to raw LE advertising reports of noble's HCI layer (once per HCI instance). */
  private hookReports(): void {
    const hci = this.noble?._bindings?._hci as EventEmitter | undefined;
    if (!hci || this.hooked === hci) return;
    if (typeof hci.on !== 'function') throw new BeepkitError('E_HCI', 'radio: noble bindings expose no HCI layer (unsupported noble version)');
    this.hooked = hci;
    hci.on('leAdvertisingReport', (_status: number, type: number, address: string, addressType: string, eir: Buffer, rssi: number) => {
      this.report(type === SCAN_RSP, type !== 0x03 && type !== 0x02 && type !== SCAN_RSP, address, addressType, eir, rssi, undefined);
    });
    hci.on('leExtendedAdvertisingReport', (_status: number, type: number, address: string, addressType: string, tx: number, rssi: number, eir: Buffer) => {
      // extended reports: bit 0 connectable, bit 3 scan response; TX power 127 = n/a (noble reads it unsigned)
      this.report((type & 0x08) !== 0, (type & 0x01) !== 0, address, addressType, eir, rssi, tx === 127 ? undefined : (tx << 24) >> 24);
    });
  }

  /** Drops the peers not heard for `afterMs` from noble's caches (noble-port.ts forgetStalePeers). */
  forgetStale(afterMs: number): number {
    const n = forgetStalePeers(this.noble, this.heard, this.now() - afterMs);
    this.counters.forgotten += n;
    return n;
  }

  private report(isScanRsp: boolean, connectable: boolean, address: string, addressType: string, eir: Buffer, rssi: number, txPower: number | undefined): void {
    const addr = String(address).toLowerCase();
    const at = this.now();
    this.heard.set(addr, at);
    if (isScanRsp) {
      this.counters.scanResponses++;
      return;
    }
    if (!this.inWindow) return;
    this.counters.adverts++;
    const ev: AdvertEvent = {
      address: addr,
      addressType: addressType === 'random' ? 'random' : 'public',
      rssi,
      data: new Uint8Array(eir.buffer, eir.byteOffset, eir.byteLength),
      connectable,
      receivedAt: at,
    };
    if (txPower !== undefined) ev.txPower = txPower;
    this.emit('advert', ev);
  }

  private onNobleState(s: RadioPower): void {
    const wasOn = this.nobleState === 'poweredOn';
    const reset = wasOn && s !== 'poweredOn';
    this.nobleState = s;
    if (reset) this.counters.resets++;
    this.emit('state', { role: 'scanner', state: s, ...(reset ? { resetDetected: true } : {}) });
    if (s === 'poweredOn' && this.noble) {
      this.hookReports();
      if (this.scanWanted && this.inWindow) this.kickScan('controller back on');
    }
  }

  private onBlenoState(s: RadioPower): void {
    const reset = this.blenoState === 'poweredOn' && s !== 'poweredOn';
    if (reset) this.advertiser?.forget();
    this.blenoState = s;
    this.emit('state', { role: 'advertiser', state: s, ...(reset ? { resetDetected: true } : {}) });
  }

  /** noble stops scanning on its own when the controller is reset (e.g. before connecting): restart. */
  private onScanStop(): void {
    if ((this.scanning && this.scanWanted && this.inWindow) || this.leases > 0) {
      this.counters.resets++;
      this.emit('state', { role: 'scanner', state: this.nobleState, resetDetected: true });
      this.kickScan('scan stopped under us');
    }
  }

  private kickScan(why: string): void {
    this.counters.scanRestarts++;
    this.log.info({ why }, 'radio: restarting scan');
    setImmediate(() => {
      if (((this.scanWanted && this.inWindow) || this.leases > 0) && this.noble) this.noble.startScanning([], this.scanWanted?.allowDuplicates ?? true);
    });
  }

  async startScan(opts: ScanOptions = {}): Promise<void> {
    if (!this.noble) throw new BeepkitError('E_CONFIG', 'radio: no scanner controller');
    this.clearDuty();
    this.scanWanted = { allowDuplicates: opts.allowDuplicates ?? true, dutyCycle: opts.dutyCycle ?? EN_DUTY_CYCLE };
    const duty = this.scanWanted.dutyCycle;
    if (duty === 'continuous' || duty === undefined) {
      await this.scanOn();
      return;
    }
    if (!(duty.windowMs > 0 && duty.periodMs >= duty.windowMs)) throw new BeepkitError('E_CONFIG', 'radio: duty cycle needs 0 < windowMs <= periodMs');
    const cycle = async () => {
      await this.scanOn();
      this.dutyTimer = setTimeout(() => {
        void this.scanOff().then(() => {
          if (this.scanWanted) this.dutyTimer = setTimeout(() => void cycle(), duty.periodMs - duty.windowMs);
        });
      }, duty.windowMs);
    };
    await cycle();
  }

  private async scanOn(): Promise<void> {
    this.inWindow = true;
    this.scanning = true;
    await this.noble.startScanningAsync([], this.scanWanted?.allowDuplicates ?? true);
  }

  private async scanOff(): Promise<void> {
    this.inWindow = false;
    this.scanning = false;
    if (this.noble && this.nobleState === 'poweredOn' && this.leases === 0) await this.noble.stopScanningAsync();
  }

  /**
   * A GATT central on the scanner's noble instance (the carer's pairing and sync:
   * one host per controller). Finding a wearable leases the scan; the radio's own
   * scan and duty cycle go on (adverts outside its window are not reported).
   */
  gattCentral(powerOnTimeoutMs?: number): GattCentralPort {
    if (!this.o.scanner) throw new BeepkitError('E_CONFIG', 'radio: a GATT central needs the scanner controller (radio.scanner)');
    return new GattCentral({
      powerOnTimeoutMs,
      shared: {
        noble: () => this.noble,
        lease: async () => {
          this.leases++;
          if (!this.inWindow) await this.noble?.startScanningAsync([], true);
        },
        release: async () => {
          this.leases = Math.max(0, this.leases - 1);
          if (this.leases === 0 && !this.inWindow && this.noble && this.nobleState === 'poweredOn') await this.noble.stopScanningAsync().catch(() => {});
        },
      },
    });
  }

  private clearDuty(): void {
    if (this.dutyTimer) clearTimeout(this.dutyTimer);
    this.dutyTimer = null;
  }

  async stopScan(): Promise<void> {
    this.scanWanted = null;
    this.clearDuty();
    await this.scanOff();
  }

  private needBleno(): any {
    if (!this.bleno) throw new BeepkitError('E_CONFIG', 'radio: no advertiser controller');
    return this.bleno;
  }

  /** Legacy advertising by standard HCI commands (bleno-port.ts): ADV_NONCONN_IND from `opts.address` by default. */
  async advertise(adData: Uint8Array, scanRspData?: Uint8Array, opts?: AdvertiseOptions): Promise<void> {
    if (adData.length > 31 || (scanRspData && scanRspData.length > 31)) throw new BeepkitError('E_RANGE', 'radio: legacy advertising data is at most 31 bytes');
    this.needBleno();
    try {
      await this.advertiser!.advertise(adData, scanRspData, opts);
    } catch (err) {
      throw err instanceof BeepkitError ? err : new BeepkitError('E_IO', `radio: advertising failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Each controller's Read Local Version Information (`beepkit doctor`), sent on its stack's own transport. */
  async controllerVersions(): Promise<{ scanner?: ControllerVersion; advertiser?: ControllerVersion }> {
    const nobleHci = new HciCommander(() => this.noble?._bindings?._hci?._socket);
    return {
      ...(this.noble ? { scanner: await readLocalVersion(nobleHci) } : {}),
      ...(this.advertiser ? { advertiser: await readLocalVersion(this.advertiser.hci) } : {}),
    };
  }

  async stopAdvertising(): Promise<void> {
    if (!this.advertiser) return;
    await this.advertiser.stop().catch(() => {});
  }

  async stop(): Promise<void> {
    this.scanWanted = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.heard.clear();
    this.clearDuty();
    this.inWindow = false;
    try {
      if (this.noble) {
        if (this.nobleState === 'poweredOn') this.noble.stopScanning();
        this.noble.stop?.();
      }
      if (this.bleno) {
        if (this.blenoState === 'poweredOn') await this.advertiser?.stop().catch(() => {});
        this.bleno.stop?.();
      }
    } catch (cause) {
      throw new BeepkitError('E_IO', 'radio: stop failed', { cause });
    } finally {
      this.noble = null;
      this.bleno = null;
      this.advertiser = null;
    }
  }
}
