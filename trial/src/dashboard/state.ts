/**
 * The dashboard's memory: the latest state (so a page opened late shows everything)
 * and a short replay ring for streams that reconnect. Every collection is bounded.
 * Pure: no timers, no sockets.
 */
import type { DashboardEvent, EncounterWindow, Stamped } from './events.ts';

export interface DashboardLimits {
  /** devices tracked (positions, trust, certificates); the least recently updated is dropped */
  devices: number;
  venues: number;
  /** encounters (device, peer) with an RSSI series */
  encounters: number;
  /** samples kept per encounter */
  samplesPerEncounter: number;
  throughput: number;
  alerts: number;
  log: number;
  /** recent events kept for SSE resumption (Last-Event-ID) */
  replay: number;
}

export const DEFAULT_LIMITS: DashboardLimits = {
  devices: 500,
  venues: 256,
  encounters: 512,
  samplesPerEncounter: 240,
  throughput: 600,
  alerts: 200,
  log: 500,
  replay: 2000,
};

type Of<K extends DashboardEvent['type']> = Extract<Stamped, { type: K }>;

export interface RssiSample {
  rssi: number;
  raw?: number;
  attenuation: number;
  distance?: number;
  t: number;
  seq: number;
}

/** One pair's series and exposure windows. */
interface Encounter {
  device: string;
  peer: string;
  samples: Ring<RssiSample>;
  edges: number[];
  windows: EncounterWindow[];
}

export interface Snapshot {
  title: string;
  /** the sequence number of the last event folded into this snapshot */
  seq: number;
  scenario: Of<'scenario'> | null;
  positions: Of<'position'>[];
  venueStates: Of<'venue-state'>[];
  trust: Of<'trust'>[];
  certificates: Of<'certificate'>[];
  rssi: { device: string; peer: string; samples: RssiSample[]; edges: number[]; windows: EncounterWindow[] }[];
  throughput: Of<'throughput'>[];
  alerts: Of<'alert'>[];
  log: Of<'log'>[];
}

/** A fixed-capacity FIFO (circular buffer): pushing past capacity drops the oldest. */
export class Ring<T> {
  private items: T[] = [];
  private head = 0;
  constructor(readonly capacity: number) {}
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }
  get length(): number {
    return this.items.length;
  }
  first(): T | undefined {
    return this.items[this.head];
  }
  toArray(): T[] {
    return [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/** A bounded map that keeps the most recently set keys. */
export class LruMap<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly capacity: number) {}
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  get size(): number {
    return this.map.size;
  }
  values(): V[] {
    return [...this.map.values()];
  }
  clear(): void {
    this.map.clear();
  }
}

export class DashboardState {
  private seq = 0;
  private scenario: Of<'scenario'> | null = null;
  private readonly positions: LruMap<Of<'position'>>;
  private readonly venueStates: LruMap<Of<'venue-state'>>;
  private readonly trust: LruMap<Of<'trust'>>;
  private readonly certificates: LruMap<Of<'certificate'>>;
  private readonly rssi: LruMap<Encounter>;
  private readonly throughput: Ring<Of<'throughput'>>;
  private readonly alerts: Ring<Of<'alert'>>;
  private readonly log: Ring<Of<'log'>>;
  private readonly recent: Ring<Stamped>;

  constructor(
    readonly title: string,
    readonly limits: DashboardLimits = DEFAULT_LIMITS,
  ) {
    this.positions = new LruMap(limits.devices);
    this.venueStates = new LruMap(limits.venues);
    this.trust = new LruMap(limits.devices);
    this.certificates = new LruMap(limits.devices);
    this.rssi = new LruMap(limits.encounters);
    this.throughput = new Ring(limits.throughput);
    this.alerts = new Ring(limits.alerts);
    this.log = new Ring(limits.log);
    this.recent = new Ring(limits.replay);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Folds a validated event into the state; returns it stamped with its sequence number. */
  apply(event: DashboardEvent): Stamped {
    const e = { ...event, seq: ++this.seq } as Stamped;
    switch (e.type) {
      case 'scenario':
        // A new scenario starts a new trial: what was on the map belongs to the old one.
        this.scenario = e;
        this.positions.clear();
        this.venueStates.clear();
        this.rssi.clear();
        break;
      case 'position':
        this.positions.set(e.device, e);
        break;
      case 'venue-state':
        this.venueStates.set(e.venue, e);
        break;
      case 'trust':
        this.trust.set(e.device, e);
        break;
      case 'certificate':
        this.certificates.set(e.device, e);
        break;
      case 'rssi': {
        const enc = this.encounter(e.device, e.peer);
        enc.samples.push({
          rssi: e.rssi,
          attenuation: e.attenuation,
          t: e.t,
          seq: e.seq,
          ...(e.raw !== undefined ? { raw: e.raw } : {}),
          ...(e.distance !== undefined ? { distance: e.distance } : {}),
        });
        break;
      }
      case 'encounter': {
        const enc = this.encounter(e.device, e.peer);
        enc.edges = e.edges;
        enc.windows = e.windows;
        break;
      }
      case 'throughput':
        this.throughput.push(e);
        break;
      case 'alert':
        this.alerts.push(e);
        break;
      case 'log':
        this.log.push(e);
        break;
    }
    this.recent.push(e);
    return e;
  }

  /** The pair's entry, created when new, made the most recent (the least recently updated pair goes first). */
  private encounter(device: string, peer: string): Encounter {
    const key = `${device}\u0000${peer}`;
    const enc = this.rssi.get(key) ?? { device, peer, samples: new Ring<RssiSample>(this.limits.samplesPerEncounter), edges: [], windows: [] };
    this.rssi.set(key, enc);
    return enc;
  }

  /**
   * Events after `seq`, oldest first, or null when the replay ring no longer
   * reaches back that far (the client must then reload the snapshot).
   */
  since(seq: number): Stamped[] | null {
    if (seq >= this.seq) return [];
    const oldest = this.recent.first();
    if (!oldest || oldest.seq > seq + 1) return null;
    return this.recent.toArray().filter((e) => e.seq > seq);
  }

  snapshot(): Snapshot {
    return {
      title: this.title,
      seq: this.seq,
      scenario: this.scenario,
      positions: this.positions.values(),
      venueStates: this.venueStates.values(),
      trust: this.trust.values(),
      certificates: this.certificates.values(),
      rssi: this.rssi.values().map((r) => ({ device: r.device, peer: r.peer, samples: r.samples.toArray(), edges: r.edges, windows: r.windows })),
      throughput: this.throughput.toArray(),
      alerts: this.alerts.toArray(),
      log: this.log.toArray(),
    };
  }
}
