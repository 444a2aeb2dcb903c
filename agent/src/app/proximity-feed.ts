/**
 * The proximity feed (config `feed.proximity`): a bounded, privacy-safe view of
 * what the radio hears from each Exposure Notification peer, for a field
 * tester's dashboard (issue 21). For every EN advert the scan pipeline accepts,
 * at most one sample per peer per `minGapMs` of monotonic time and at most
 * `perSecond` samples a second in all: raw RSSI, filtered RSSI and attenuation.
 * A read returns the samples after a cursor with each peer's exposure windows
 * (encounter log: bounds and milliseconds per attenuation bucket) and the
 * bucket edges.
 *
 * Peers are labelled with local ids (`p1`, `p2`, …: one per RPI, in the order
 * heard) and never with an RPI or address. In a simulated trial (scenario
 * clock) the trial may name the RPIs it knows from its simulated air
 * (`setNames`): the feed then labels those peers with the names. Memory is
 * bounded: `maxSamples` samples (a ring), `maxPeers` peers and names (the least
 * recently heard dropped).
 */
import { BeepkitError } from '@beepkit/protocol';

export interface FeedSample {
  seq: number;
  /** the peer's local id */
  peer: string;
  /** agent clock, ms */
  t: number;
  raw: number;
  rssi: number;
  att: number;
}

export interface FeedWindow {
  start: number;
  end: number;
  msByBucket: number[];
}

export interface FeedPeer {
  /** local id (`p<n>`) */
  id: string;
  /** the trial's name for it when one was given, else the local id */
  label: string;
  windows: FeedWindow[];
}

export interface FeedRead {
  /** the cursor for the next read */
  next: number;
  /** true when samples after `after` were already dropped from the ring */
  lost: boolean;
  edges: readonly number[];
  samples: Omit<FeedSample, 'seq'>[];
  peers: FeedPeer[];
}

export interface ProximityFeedOptions {
  /** monotonic ms (performance.now) for the rate bounds */
  mono: () => number;
  /** the exposure windows of a peer (by its pipeline key) */
  windowsOf: (key: string) => readonly FeedWindow[] | undefined;
  edges: readonly number[];
  maxSamples?: number;
  maxPeers?: number;
  minGapMs?: number;
  perSecond?: number;
  /** windows returned per peer at most (the latest) */
  maxWindows?: number;
}

interface Peer {
  id: string;
  lastMono: number;
}

const NAME = /^[\p{L}\p{N} ._'()-]{1,40}$/u;
const RPI = /^[0-9a-f]{32}$/;

export class ProximityFeed {
  readonly counters = { samples: 0, skippedGap: 0, skippedRate: 0, peersDropped: 0 };
  readonly #o: Required<ProximityFeedOptions>;
  readonly #ring: (FeedSample | undefined)[];
  #seq = 0;
  /** pipeline key → local peer; Map order is recency (re-inserted on each sample) */
  readonly #peers = new Map<string, Peer>();
  readonly #keyOf = new Map<string, string>();
  readonly #names = new Map<string, string>();
  #nextId = 1;
  #tokens: number;
  #tokensAt: number;

  constructor(o: ProximityFeedOptions) {
    this.#o = { maxSamples: 4096, maxPeers: 512, minGapMs: 250, perSecond: 100, maxWindows: 8, ...o };
    this.#ring = new Array<FeedSample | undefined>(this.#o.maxSamples);
    this.#tokens = this.#o.perSecond;
    this.#tokensAt = o.mono();
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  /** One accepted EN advert: `key` is the pipeline's peer key (never leaves the feed). */
  observe(key: string, raw: number, rssi: number, att: number, t: number): void {
    const mono = this.#o.mono();
    let p = this.#peers.get(key);
    if (p && mono - p.lastMono < this.#o.minGapMs) {
      this.counters.skippedGap++;
      return;
    }
    this.#tokens = Math.min(this.#o.perSecond, this.#tokens + ((mono - this.#tokensAt) * this.#o.perSecond) / 1000);
    this.#tokensAt = mono;
    if (this.#tokens < 1) {
      this.counters.skippedRate++;
      return;
    }
    this.#tokens -= 1;
    if (p) this.#peers.delete(key);
    else {
      p = { id: `p${this.#nextId++}`, lastMono: mono };
      this.#keyOf.set(p.id, key);
      if (this.#peers.size >= this.#o.maxPeers) this.#dropOldest();
    }
    p.lastMono = mono;
    this.#peers.set(key, p);
    const s: FeedSample = { seq: ++this.#seq, peer: p.id, t, raw, rssi: round1(rssi), att: round1(att) };
    this.#ring[s.seq % this.#o.maxSamples] = s;
    this.counters.samples++;
  }

  #dropOldest(): void {
    const [key, p] = this.#peers.entries().next().value as [string, Peer];
    this.#peers.delete(key);
    this.#keyOf.delete(p.id);
    this.counters.peersDropped++;
  }

  /**
   * Names for RPIs (32 lowercase hex digits → a name of 1..40 letters, digits, space or . _ ' ( ) -),
   * given by a simulated trial. At most `maxPeers` are kept (the newest). Throws E_FORMAT on a bad entry.
   */
  setNames(names: unknown): number {
    if (!Array.isArray(names) || names.length > this.#o.maxPeers)
      throw new BeepkitError('E_FORMAT', `names: must be a list of at most ${this.#o.maxPeers} {rpi, name}`);
    for (const [i, n] of names.entries()) {
      const e = n as { rpi?: unknown; name?: unknown };
      if (typeof e !== 'object' || e === null || typeof e.rpi !== 'string' || !RPI.test(e.rpi) || typeof e.name !== 'string' || !NAME.test(e.name)) {
        throw new BeepkitError('E_FORMAT', `names[${i}]: must be {rpi: 32 lowercase hex digits, name: 1..40 letters, digits, space or . _ ' ( ) -}`);
      }
    }
    for (const n of names as { rpi: string; name: string }[]) {
      this.#names.delete(n.rpi);
      this.#names.set(n.rpi, n.name);
    }
    while (this.#names.size > this.#o.maxPeers) this.#names.delete(this.#names.keys().next().value as string);
    return this.#names.size;
  }

  /** Samples after `after` (oldest first, at most `limit`), with their peers' windows. */
  read(after = 0, limit = 2000): FeedRead {
    const from = Math.max(0, Math.floor(Number.isFinite(after) ? after : 0));
    const oldest = Math.max(1, this.#seq - this.#o.maxSamples + 1);
    const start = Math.max(from + 1, oldest);
    const end = Math.min(this.#seq, start + Math.max(1, limit) - 1);
    const samples: Omit<FeedSample, 'seq'>[] = [];
    const ids = new Set<string>();
    for (let q = start; q <= end; q++) {
      const s = this.#ring[q % this.#o.maxSamples];
      if (!s || s.seq !== q) continue;
      ids.add(s.peer);
      samples.push({ peer: s.peer, t: s.t, raw: s.raw, rssi: s.rssi, att: s.att });
    }
    const peers: FeedPeer[] = [];
    for (const id of ids) {
      const key = this.#keyOf.get(id);
      const windows = (key !== undefined ? this.#o.windowsOf(key) : undefined) ?? [];
      peers.push({
        id,
        label: (key !== undefined && this.#names.get(key)) || id,
        windows: windows.slice(-this.#o.maxWindows).map((w) => ({ start: w.start, end: w.end, msByBucket: [...w.msByBucket] })),
      });
    }
    return { next: Math.max(from, end), lost: from + 1 < oldest && this.#seq > 0, edges: this.#o.edges, samples, peers };
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * The feed's local API routes (behind the API token like every control route):
 *   GET  /proximity/since/<cursor>   FeedRead as JSON (cursor 0: everything the ring holds)
 *   POST /proximity/names {names: [{rpi, name}]}   only on a scenario clock (a simulated trial), else 409 E_STATE
 * Undefined for other paths; 404 E_NOT_FOUND when the feed is off.
 */
export async function feedRoute(
  feed: ProximityFeed | undefined,
  simulated: boolean,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown } | undefined> {
  if (path !== '/proximity/names' && !path.startsWith('/proximity/since/')) return undefined;
  if (!feed) throw new BeepkitError('E_NOT_FOUND', 'the proximity feed is off (config feed.proximity)');
  if (path === '/proximity/names') {
    if (method !== 'POST') return undefined;
    if (!simulated) throw new BeepkitError('E_STATE', 'peer names are taken in a simulated trial only (scenario clock)');
    return { status: 200, body: { names: feed.setNames((body as { names?: unknown } | null)?.names) } };
  }
  if (method !== 'GET') return undefined;
  const cursor = path.slice('/proximity/since/'.length);
  if (!/^\d{1,15}$/.test(cursor)) throw new BeepkitError('E_FORMAT', 'cursor: a whole number');
  return { status: 200, body: feed.read(Number(cursor)) };
}
