/**
 * The shared simulated air. Every virtual controller (and every host-less
 * beacon) is a device on it with a position, a TX power, and optionally an
 * advertising set, a scan and a pending connection. Real time: each
 * advertiser runs its own timer (interval + 0–10 ms advDelay); every
 * advertising event is offered to every scanner, which receives it if the
 * sampled RSSI (log-distance + seeded shadowing) clears the sensitivity and
 * the event falls into its scan window. Active scanners get the scan
 * response; an initiator connects at the target's next received connectable
 * event; links die after the supervision timeout once out of range.
 */
import { BeepkitError } from '@beepkit/protocol';
import { DEFAULT_RADIO, Rng, expectedRssi, inScanWindow, toHciRssi, type RadioParams } from './model.ts';
import { distanceM, latLonToEnu, enuToLatLon, type Enu, type LatLon } from './geo.ts';
import { hostNow } from '@beepkit/protocol/clock';

export const ADV_IND = 0x00;
export const ADV_DIRECT_IND = 0x01;
export const ADV_SCAN_IND = 0x02;
export const ADV_NONCONN_IND = 0x03;
export const SCAN_RSP = 0x04;
export const REASON_CONNECTION_TIMEOUT = 0x08;
export const REASON_LOCAL_HOST_TERMINATED = 0x16;

export interface AdvPdu {
  /** Legacy PDU type: ADV_IND, ADV_DIRECT_IND, ADV_SCAN_IND, ADV_NONCONN_IND or SCAN_RSP. */
  type: number;
  /** 6 bytes, little-endian as on the wire. */
  address: Buffer;
  addressType: number;
  data: Buffer;
}
export interface RxAdv extends AdvPdu {
  rssi: number;
  txPower: number;
  /** Id of the transmitting device. */
  from: string;
  /** The PDU this SCAN_RSP answers (type), for extended report event types. */
  scanRspTo?: number;
}
export interface AirLink {
  readonly id: number;
  readonly central: string;
  readonly peripheral: string;
  readonly intervalMs: number;
  readonly supervisionTimeoutMs: number;
  lastHeard: number;
}
/** What a device on the air (a controller) is told. */
export interface AirListener {
  onAdv(rx: RxAdv): void;
  onLinkUp(link: AirLink, role: 0 | 1, peer: { address: Buffer; addressType: number }): void;
  onLinkData(link: AirLink, pb: number, data: Buffer): void;
  onLinkDown(link: AirLink, reason: number): void;
}
export interface AdvertisingSet {
  intervalMs: number;
  type: number;
  address: Buffer;
  addressType: number;
  advData: Buffer;
  scanRspData: Buffer;
}
export interface ScanSet {
  active: boolean;
  intervalMs: number;
  windowMs: number;
}
export interface ConnectRequest {
  peerAddress: Buffer;
  ownAddress: Buffer;
  ownAddressType: number;
  intervalMs: number;
  supervisionTimeoutMs: number;
  /** Scan timing while initiating. */
  scanIntervalMs: number;
  scanWindowMs: number;
}
export interface BeaconOptions {
  id: string;
  position: Enu | LatLon;
  txPower?: number;
  intervalMs?: number;
  payload?: Uint8Array;
  /** Called at every advertising event; lets a venue beacon rotate its frame per slot. */
  payloadFn?: (now: number) => Uint8Array;
  address?: Buffer;
  addressType?: number;
  type?: number;
  scanRsp?: Uint8Array;
}
export interface AirOptions {
  seed?: number;
  radio?: Partial<RadioParams>;
  /** WGS84 origin of the local ENU frame. */
  origin?: LatLon;
  /** Maximum advDelay added to each advertising interval (spec: 0–10 ms). */
  advJitterMs?: number;
  /** Override: scanners never send scan requests (no SCAN_RSP delivered). */
  passiveScan?: boolean;
  /** How often links are checked for supervision timeout, ms. */
  supervisionCheckMs?: number;
  /** The clock handed to beacons' payloadFn (default the host clock; the sim passes its scenario clock). */
  now?: () => number;
}
/**
 * A recorded RSSI source (trace-driven air, issue 15): for a (tx, rx) pair it returns the dBm to report at
 * this advertising event (instead of the path-loss model and shadowing), or null when nothing is heard now;
 * undefined leaves the pair to the model. `now` is the air's clock (the sim's scenario clock).
 */
export type RssiSource = (tx: string, rx: string, now: number) => number | null | undefined;

export interface TxStats {
  advEvents: number;
  received: number;
  belowSensitivity: number;
  outsideWindow: number;
}

interface Device {
  id: string;
  pos: Enu;
  txPower: number;
  listener?: AirListener;
  adv?: AdvertisingSet;
  advTimer?: NodeJS.Timeout;
  beacon?: BeaconOptions;
  scan?: ScanSet & { t0: number };
  initiating?: ConnectRequest & { t0: number };
  stats: TxStats;
}

export class Air {
  readonly params: RadioParams;
  readonly origin: LatLon;
  readonly stats = { advEvents: 0, delivered: 0, belowSensitivity: 0, outsideWindow: 0, scanResponses: 0, linksUp: 0, linksLost: 0 };
  private readonly rng: Rng;
  private readonly jitterMs: number;
  private readonly passive: boolean;
  private readonly checkMs: number;
  private readonly devices = new Map<string, Device>();
  private readonly links = new Map<number, AirLink>();
  private nextLink = 1;
  private supervisor?: NodeJS.Timeout;
  private stopped = false;
  private rssiSource?: RssiSource;
  readonly #now: () => number;

  constructor(opts: AirOptions = {}) {
    this.params = { ...DEFAULT_RADIO, ...opts.radio };
    this.origin = opts.origin ?? { lat: 0, lon: 0 };
    this.rng = new Rng(opts.seed ?? 1);
    this.jitterMs = opts.advJitterMs ?? 10;
    this.passive = opts.passiveScan ?? false;
    this.checkMs = opts.supervisionCheckMs ?? 50;
    this.#now = opts.now ?? hostNow;
  }

  /** Sets (or with undefined removes) a recorded RSSI source for the pairs it knows (firmware-stubs/src/air/trace.ts). */
  setRssiSource(source: RssiSource | undefined): void {
    this.rssiSource = source;
  }

  /** Registers a device (a controller). */
  attach(id: string, listener: AirListener, opts: { position?: Enu | LatLon; txPower?: number } = {}): void {
    if (this.devices.has(id)) throw new BeepkitError('E_CONFIG', `air: device ${id} already attached`);
    this.devices.set(id, { id, pos: this.toEnu(opts.position ?? { x: 0, y: 0 }), txPower: opts.txPower ?? 0, listener, stats: zeroStats() });
  }

  detach(id: string): void {
    const d = this.devices.get(id);
    if (!d) return;
    this.setAdvertising(id, null);
    for (const link of [...this.links.values()]) {
      if (link.central === id || link.peripheral === id) this.dropLink(link, REASON_CONNECTION_TIMEOUT, id);
    }
    this.devices.delete(id);
  }

  addBeacon(b: BeaconOptions): void {
    if (!b.payload && !b.payloadFn) throw new BeepkitError('E_CONFIG', `beacon ${b.id}: payload or payloadFn required`);
    const address = b.address ?? staticRandomAddress(b.id);
    this.devices.set(b.id, { id: b.id, pos: this.toEnu(b.position), txPower: b.txPower ?? -4, beacon: b, stats: zeroStats() });
    this.setAdvertising(b.id, {
      intervalMs: b.intervalMs ?? 100,
      type: b.type ?? ADV_NONCONN_IND,
      address,
      addressType: b.addressType ?? 1,
      advData: Buffer.from(b.payload ?? b.payloadFn!(this.#now())),
      scanRspData: Buffer.from(b.scanRsp ?? []),
    });
  }

  removeBeacon(id: string): void {
    this.detach(id);
  }

  has(id: string): boolean {
    return this.devices.has(id);
  }

  setPosition(id: string, pos: Enu | LatLon): void {
    this.dev(id).pos = this.toEnu(pos);
  }

  position(id: string): Enu {
    return { ...this.dev(id).pos };
  }

  positionLatLon(id: string): LatLon {
    return enuToLatLon(this.origin, this.dev(id).pos);
  }

  setTxPower(id: string, dbm: number): void {
    this.dev(id).txPower = dbm;
  }

  txStats(id: string): TxStats {
    return { ...this.dev(id).stats };
  }

  distance(a: string, b: string): number {
    return distanceM(this.dev(a).pos, this.dev(b).pos);
  }

  /** One sampled RSSI (dBm, unrounded) from `tx` as heard at `rx`. */
  sampleRssi(tx: string, rx: string): number {
    const t = this.dev(tx);
    return expectedRssi(t.txPower, distanceM(t.pos, this.dev(rx).pos), this.params) + this.params.shadowingSigmaDb * this.rng.gauss();
  }

  /** Starts (or updates, keeping the timer phase) or stops advertising. */
  setAdvertising(id: string, adv: AdvertisingSet | null): void {
    const d = this.dev(id);
    if (!adv) {
      if (d.advTimer) clearTimeout(d.advTimer);
      d.advTimer = undefined;
      d.adv = undefined;
      return;
    }
    const was = d.adv;
    d.adv = adv;
    if (!was || !d.advTimer) this.schedule(d, this.rng.next() * Math.min(adv.intervalMs, 20));
  }

  setScanning(id: string, scan: ScanSet | null): void {
    this.dev(id).scan = scan ? { ...scan, t0: performance.now() } : undefined;
  }

  connect(id: string, req: ConnectRequest): void {
    this.dev(id).initiating = { ...req, t0: performance.now() };
  }

  /** Stops initiating; false if nothing was pending. */
  cancelConnect(id: string): boolean {
    const d = this.dev(id);
    const had = !!d.initiating;
    d.initiating = undefined;
    return had;
  }

  sendAcl(linkId: number, from: string, pb: number, data: Buffer): boolean {
    const link = this.links.get(linkId);
    if (!link) return false;
    const to = link.central === from ? link.peripheral : link.central;
    this.devices.get(to)?.listener?.onLinkData(link, pb, data);
    return true;
  }

  /** Host-initiated disconnect: the peer gets `reason`, the local side 0x16, both on the next tick. */
  disconnect(linkId: number, from: string, reason: number): boolean {
    const link = this.links.get(linkId);
    if (!link) return false;
    this.links.delete(linkId);
    const to = link.central === from ? link.peripheral : link.central;
    setImmediate(() => {
      this.devices.get(from)?.listener?.onLinkDown(link, REASON_LOCAL_HOST_TERMINATED);
      this.devices.get(to)?.listener?.onLinkDown(link, reason);
    });
    return true;
  }

  /** Sampled, rounded RSSI of the link as measured by `at`. */
  linkRssi(linkId: number, at: string): number | undefined {
    const link = this.links.get(linkId);
    if (!link) return undefined;
    const other = link.central === at ? link.peripheral : link.central;
    return toHciRssi(this.sampleRssi(other, at));
  }

  linkCount(): number {
    return this.links.size;
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.devices.values()) if (d.advTimer) clearTimeout(d.advTimer);
    if (this.supervisor) clearInterval(this.supervisor);
    this.supervisor = undefined;
  }

  private dev(id: string): Device {
    const d = this.devices.get(id);
    if (!d) throw new BeepkitError('E_CONFIG', `air: unknown device ${id}`);
    return d;
  }

  private toEnu(p: Enu | LatLon): Enu {
    return 'lat' in p ? latLonToEnu(this.origin, p) : { x: p.x, y: p.y, z: p.z ?? 0 };
  }

  private schedule(d: Device, delayMs: number): void {
    if (this.stopped) return;
    d.advTimer = setTimeout(() => {
      if (!d.adv) return;
      this.advEvent(d, d.adv);
      if (d.adv) this.schedule(d, d.adv.intervalMs + this.rng.next() * this.jitterMs);
    }, delayMs);
    d.advTimer.unref();
  }

  private advEvent(tx: Device, adv: AdvertisingSet): void {
    const now = performance.now();
    this.stats.advEvents++;
    tx.stats.advEvents++;
    if (tx.beacon?.payloadFn) adv.advData = Buffer.from(tx.beacon.payloadFn(this.#now()));
    const connectable = adv.type === ADV_IND || adv.type === ADV_DIRECT_IND;
    const scannable = adv.type === ADV_IND || adv.type === ADV_SCAN_IND;
    for (const rx of this.devices.values()) {
      if (rx === tx || !rx.listener || (!rx.scan && !rx.initiating)) continue;
      const traced = this.rssiSource?.(tx.id, rx.id, this.#now());
      if (traced === null) continue;
      const base = traced ?? expectedRssi(tx.txPower, distanceM(tx.pos, rx.pos), this.params);
      const rssi = traced ?? base + this.params.shadowingSigmaDb * this.rng.gauss();
      if (traced === undefined && rssi < this.params.sensitivityDbm) {
        this.stats.belowSensitivity++;
        tx.stats.belowSensitivity++;
        continue;
      }
      const init = rx.initiating;
      if (init && connectable && init.peerAddress.equals(adv.address)) {
        if (inScanWindow(now, init.t0, init.scanIntervalMs, init.scanWindowMs)) this.linkUp(rx, tx, init, adv);
        continue;
      }
      const scan = rx.scan;
      if (!scan) continue;
      if (!inScanWindow(now, scan.t0, scan.intervalMs, scan.windowMs)) {
        this.stats.outsideWindow++;
        tx.stats.outsideWindow++;
        continue;
      }
      this.stats.delivered++;
      tx.stats.received++;
      const pdu = { type: adv.type, address: adv.address, addressType: adv.addressType, from: tx.id, txPower: tx.txPower };
      // a recorded 127 is HCI's "not available" and is reported as such
      rx.listener.onAdv({ ...pdu, data: adv.advData, rssi: traced === 127 ? 127 : toHciRssi(rssi) });
      if (scan.active && scannable && !this.passive && rx.listener) {
        const rssi2 = traced ?? base + this.params.shadowingSigmaDb * this.rng.gauss();
        if (traced === undefined && rssi2 < this.params.sensitivityDbm) continue;
        this.stats.scanResponses++;
        rx.listener.onAdv({ ...pdu, type: SCAN_RSP, scanRspTo: adv.type, data: adv.scanRspData, rssi: toHciRssi(rssi2) });
      }
    }
  }

  private linkUp(central: Device, peripheral: Device, req: ConnectRequest, adv: AdvertisingSet): void {
    central.initiating = undefined;
    this.setAdvertising(peripheral.id, null);
    const link: AirLink = {
      id: this.nextLink++,
      central: central.id,
      peripheral: peripheral.id,
      intervalMs: req.intervalMs,
      supervisionTimeoutMs: req.supervisionTimeoutMs,
      lastHeard: performance.now(),
    };
    this.links.set(link.id, link);
    this.stats.linksUp++;
    central.listener?.onLinkUp(link, 0, { address: adv.address, addressType: adv.addressType });
    peripheral.listener?.onLinkUp(link, 1, { address: req.ownAddress, addressType: req.ownAddressType });
    if (!this.supervisor && !this.stopped) {
      this.supervisor = setInterval(() => this.supervise(), this.checkMs);
      this.supervisor.unref();
    }
  }

  private supervise(): void {
    const now = performance.now();
    for (const link of [...this.links.values()]) {
      const rssi = Math.max(this.sampleRssi(link.central, link.peripheral), this.sampleRssi(link.peripheral, link.central));
      if (rssi >= this.params.sensitivityDbm) link.lastHeard = now;
      else if (now - link.lastHeard > link.supervisionTimeoutMs) this.dropLink(link, REASON_CONNECTION_TIMEOUT);
    }
    if (this.links.size === 0 && this.supervisor) {
      clearInterval(this.supervisor);
      this.supervisor = undefined;
    }
  }

  private dropLink(link: AirLink, reason: number, except?: string): void {
    if (!this.links.delete(link.id)) return;
    this.stats.linksLost++;
    for (const id of [link.central, link.peripheral]) if (id !== except) this.devices.get(id)?.listener?.onLinkDown(link, reason);
  }
}

function zeroStats(): TxStats {
  return { advEvents: 0, received: 0, belowSensitivity: 0, outsideWindow: 0 };
}

/** A deterministic static random address (top bits 11) from an id, little-endian. */
export function staticRandomAddress(id: string): Buffer {
  let h = 0x811c9dc5;
  const out = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) {
    for (const c of `${id}#${i}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    out[i] = h & 0xff;
  }
  out[5] |= 0xc0;
  return out;
}
