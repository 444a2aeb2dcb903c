/**
 * The advert pipeline: decode → classify → filter → aggregate. Pure and
 * synchronous (no timers); time comes from each AdvertEvent. Bad adverts are
 * counted by BeepkitError code and never thrown out of push().
 */
import { isBeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { decodeAdvert, slotOf, verifyVenueFrame, DEFAULT_SLOT_SECONDS, DEFAULT_SLOT_WINDOW, type Advert, type AdvertKind } from '@beepkit/protocol/frames';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { RssiFilter, type RssiFilterConfig } from '../rssi/filters.ts';
import type { EncounterLog } from '../encounters/log.ts';
import { ProximityEstimator, proximityConfig, type ProximityConfig } from '../proximity/estimator.ts';
import type { VisitDetector } from '../visits/detector.ts';
import type { AdvertEvent, VenueObservation, VenueRegistry } from './types.ts';

export const ADVERT_KINDS: readonly AdvertKind[] = [
  'ibeacon',
  'eddystone-uid',
  'eddystone-url',
  'eddystone-tlm',
  'eddystone-eid',
  'exposure-notification',
  'beepkit-venue',
  'unknown',
];

export interface PipelineOptions {
  filter?: RssiFilterConfig;
  /** This receiver's RSSI correction (calibration table), dB. */
  rssiCorrection?: number;
  /** TX power assumed for EN peers whose AEM cannot be decrypted yet (default −8 dBm). */
  assumedEnTxPower?: number;
  /** Resolves an EN peer's TX power from its AEM when the TEK is known (matching, simulations). */
  enTxPower?: (rpi: Uint8Array, aem: Uint8Array) => number | undefined;
  encounters?: EncounterLog;
  visits?: VisitDetector;
  venues?: VenueRegistry;
  slotSeconds?: number;
  slotWindow?: number;
  /** Called for every genuine, fresh venue frame. */
  onVenue?: (obs: VenueObservation) => void;
  /** Called for every accepted EN advert: the peer (its key), the raw and filtered RSSI, the attenuation (the proximity feed). */
  onEncounter?: (key: string, raw: number, filtered: number, att: number, at: number) => void;
  /** The proximity decision for EN peers (agent/src/proximity; default: within 2 m). */
  proximity?: Partial<ProximityConfig>;
  /** Peers tracked at most; beyond it new peers are counted (E_PEER_TABLE_FULL) but not tracked. */
  maxPeers?: number;
  logger?: Logger;
}

export interface PeerState {
  key: string;
  kind: AdvertKind;
  address: string;
  filter: RssiFilter;
  firstSeen: number;
  lastSeen: number;
  samples: number;
  /** Last filtered, corrected RSSI. */
  rssi: number;
  txPower: number;
  attenuation: number;
  minAttenuation: number;
  sumAttenuation: number;
  /** Venue peers: last verified (slot, mac hex) to skip re-verifying repeats. */
  verified?: string;
  /** EN peers: the RPI and the next peer in the same hash bucket. */
  rpi?: Uint8Array;
  next?: PeerState;
  /** EN peers: the last sample's unfiltered EN attenuation, and the proximity estimator's state and decision. */
  rawAttenuation?: number;
  proximity?: ProximityEstimator;
  close?: boolean;
}

/** FNV-1a over 16 bytes: EN peers are found by RPI without building a string per advert. */
function hash16(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface PipelineStats {
  total: number;
  accepted: number;
  byKind: Record<AdvertKind, number>;
  rejects: Record<string, number>;
}

export class ScanPipeline {
  readonly stats: PipelineStats;
  private readonly peers = new Map<string, PeerState>();
  private readonly enPeers = new Map<number, PeerState>();
  private readonly o: PipelineOptions;
  private readonly log: Logger;
  private readonly correction: number;
  private readonly maxPeers: number;
  private readonly proximity: ReturnType<typeof proximityConfig>;

  constructor(opts: PipelineOptions = {}) {
    this.proximity = proximityConfig(opts.proximity);
    this.o = opts;
    this.log = opts.logger ?? silentLogger;
    this.correction = opts.rssiCorrection ?? 0;
    this.maxPeers = opts.maxPeers ?? 100_000;
    this.stats = { total: 0, accepted: 0, byKind: Object.fromEntries(ADVERT_KINDS.map((k) => [k, 0])) as Record<AdvertKind, number>, rejects: {} };
  }

  get peerCount(): number {
    return this.peers.size;
  }

  peer(key: string): PeerState | undefined {
    return this.peers.get(key);
  }

  *allPeers(): IterableIterator<PeerState> {
    yield* this.peers.values();
  }

  private reject(code: string): null {
    this.stats.rejects[code] = (this.stats.rejects[code] ?? 0) + 1;
    return null;
  }

  /** Processes one advert; returns its kind, or null if it was rejected (counted). */
  push(ev: AdvertEvent): AdvertKind | null {
    this.stats.total++;
    try {
      return this.process(ev);
    } catch (err) {
      const code = isBeepkitError(err) ? err.code : 'E_INTERNAL';
      if (code === 'E_INTERNAL') this.log.error({ err }, 'scan pipeline: unexpected error');
      return this.reject(code);
    }
  }

  private process(ev: AdvertEvent): AdvertKind | null {
    if (!(ev.data instanceof Uint8Array)) return this.reject('E_TYPE');
    // 127 is HCI's "RSSI not available"; anything outside −127..20 dBm is not a reading
    if (!Number.isFinite(ev.rssi) || ev.rssi < -127 || ev.rssi > 20) return this.reject('E_RSSI');
    // a time before 1970 is no reading (the encounter log keeps whole milliseconds since the epoch, u64 on disk)
    if (!Number.isFinite(ev.receivedAt) || ev.receivedAt < 0) return this.reject('E_RANGE');
    const a = decodeAdvert(ev.data);
    let key = '';
    let tx: number;
    let p: PeerState | undefined;
    switch (a.kind) {
      case 'exposure-notification': {
        const h = hash16(a.rpi);
        p = this.enPeers.get(h);
        while (p && !same(p.rpi as Uint8Array, a.rpi)) p = p.next;
        if (!p) key = toHex(a.rpi);
        tx = this.o.enTxPower?.(a.rpi, a.aem) ?? this.o.assumedEnTxPower ?? -8;
        break;
      }
      case 'beepkit-venue':
        key = 'v:' + toHex(a.venueId);
        tx = a.txPower;
        break;
      case 'ibeacon':
        key = `ib:${a.uuid}:${a.major}:${a.minor}`;
        tx = a.txPower;
        break;
      case 'eddystone-uid':
      case 'eddystone-url':
      case 'eddystone-eid':
        key = 'ed:' + ev.address;
        tx = a.txPower;
        break;
      case 'unknown':
        key = 'a:' + ev.address;
        tx = a.txPowerLevel ?? ev.txPower ?? NaN;
        break;
      default:
        key = 'ed:' + ev.address;
        tx = ev.txPower ?? NaN;
    }
    if (a.kind !== 'exposure-notification') p = this.peers.get(key);
    let venueTag: string | null = null;
    if (a.kind === 'beepkit-venue' && (venueTag = this.verifyVenue(a, key.slice(2), p, ev.receivedAt)) === null) return null;
    if (!p) {
      if (this.peers.size >= this.maxPeers) {
        this.reject('E_PEER_TABLE_FULL');
        this.stats.byKind[a.kind]++;
        return a.kind;
      }
      p = {
        key,
        kind: a.kind,
        address: ev.address,
        filter: new RssiFilter(this.o.filter),
        firstSeen: ev.receivedAt,
        lastSeen: ev.receivedAt,
        samples: 0,
        rssi: NaN,
        txPower: tx,
        attenuation: NaN,
        minAttenuation: Infinity,
        sumAttenuation: 0,
      };
      this.peers.set(key, p);
      if (a.kind === 'exposure-notification') {
        const h = hash16(a.rpi);
        p.rpi = a.rpi;
        p.next = this.enPeers.get(h);
        this.enPeers.set(h, p);
      }
    }
    if (venueTag !== null) p.verified = venueTag;
    const rssi = p.filter.update(ev.rssi) + this.correction;
    p.rssi = rssi;
    p.address = ev.address;
    if (ev.receivedAt > p.lastSeen) p.lastSeen = ev.receivedAt;
    p.samples++;
    p.txPower = tx;
    const att = tx - rssi;
    p.attenuation = att;
    if (att === att) {
      p.sumAttenuation += att;
      if (att < p.minAttenuation) p.minAttenuation = att;
    }
    this.stats.byKind[a.kind]++;
    this.stats.accepted++;
    this.aggregate(a, p, ev, att);
    return a.kind;
  }

  /** Verifies a venue frame; returns its (slot, mac) tag, or null when rejected (counted). */
  private verifyVenue(a: Extract<Advert, { kind: 'beepkit-venue' }>, venueId: string, p: PeerState | undefined, at: number): string | null {
    const info = this.o.venues?.get(venueId);
    if (!info) return this.reject('E_VENUE_UNKNOWN');
    const nowSlot = slotOf(Math.max(0, at) / 1000, this.o.slotSeconds ?? DEFAULT_SLOT_SECONDS);
    const tag = `${a.slot}:${toHex(a.mac)}`;
    // a repeat of an already verified frame only needs the freshness check
    if (p?.verified === tag) {
      const w = this.o.slotWindow ?? DEFAULT_SLOT_WINDOW;
      if (a.slot < nowSlot - w) return this.reject('E_REPLAY');
      if (a.slot > nowSlot + w) return this.reject('E_EXPIRED');
      return tag;
    }
    verifyVenueFrame(a, info.key, { nowSlot, window: this.o.slotWindow ?? DEFAULT_SLOT_WINDOW });
    return tag;
  }

  private aggregate(a: Advert, p: PeerState, ev: AdvertEvent, att: number): void {
    if (a.kind === 'exposure-notification') {
      // the proximity decision works on each sample's own EN attenuation (the smoothed one lags)
      const raw = p.txPower - (ev.rssi + this.correction);
      p.rawAttenuation = raw;
      p.close = (p.proximity ??= new ProximityEstimator(this.proximity)).update(ev.receivedAt, raw);
      this.o.encounters?.recordBytes(a.rpi, a.aem, ev.address, att, Math.round(ev.receivedAt), p.close);
      this.o.onEncounter?.(p.key, ev.rssi, p.rssi, att, ev.receivedAt);
    } else if (a.kind === 'beepkit-venue') {
      const venueId = p.key.slice(2);
      this.o.visits?.observe(venueId, p.rssi, att, ev.receivedAt);
      this.o.onVenue?.({
        venueId,
        slot: a.slot,
        txPower: a.txPower,
        frame: ev.data,
        rssi: ev.rssi,
        filteredRssi: p.rssi,
        attenuation: att,
        receivedAt: ev.receivedAt,
        address: ev.address,
      });
    }
  }

  private unlinkEn(p: PeerState): void {
    const h = hash16(p.rpi as Uint8Array);
    let head = this.enPeers.get(h);
    if (head === p) {
      if (p.next) this.enPeers.set(h, p.next);
      else this.enPeers.delete(h);
      return;
    }
    while (head && head.next !== p) head = head.next;
    if (head) head.next = p.next;
  }

  /** Forgets peers not seen since now − idleMs (their encounters stay in the log). */
  purgeIdle(now: number, idleMs: number): number {
    let n = 0;
    for (const [k, p] of this.peers) {
      if (now - p.lastSeen > idleMs) {
        this.peers.delete(k);
        if (p.rpi) this.unlinkEn(p);
        n++;
      }
    }
    return n;
  }
}
