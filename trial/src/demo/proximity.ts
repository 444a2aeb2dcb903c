/**
 * The trial's proximity view (issue 21): what each agent's radio hears, from its
 * bounded proximity feed (agent config `feed.proximity`, agent/src/app/proximity-feed.ts),
 * onto the dashboard as `rssi` samples and `encounter` windows, with the simulated
 * air's true distance beside each sample.
 *
 * Peer names: the sim knows what every simulated device advertises (a hosted
 * device's advertiser controller, a crowd member's EN identity), so the trial
 * tells each agent which RPI is which scenario device (POST /proximity/names, on
 * its loopback API, accepted on a scenario clock only). The agent then labels
 * those peers with the device ids; the RPIs never reach the dashboard or a log.
 * Bounded: names kept per RPI (LRU), windows per pair and pairs (LRU), samples per
 * read (the agent's feed is rate-bounded), a pair's windows at most every 5 s unless
 * one was added.
 */
import { decodeAdvert } from '@beepkit/protocol/frames';
import { toHex } from '@beepkit/protocol/bytes';
import type { Scenario } from '@beepkit/firmware-stubs/scenario';
import { positionAt } from '@beepkit/firmware-stubs/scenario';
import { crowdTek, enIdentity, type Sim } from '@beepkit/firmware-stubs/sim';
import { agentHeaders, type AgentEndpoint } from '@beepkit/hil-tests/agent-child';
import { MAX_WINDOWS } from '../dashboard/events.ts';

interface FeedWindow {
  start: number;
  end: number;
  msByBucket: number[];
}
interface FeedRead {
  next: number;
  lost: boolean;
  edges: number[];
  samples: { peer: string; t: number; raw: number; rssi: number; att: number }[];
  peers: { id: string; label: string; windows: FeedWindow[] }[];
}

export interface ProximityAgent {
  id: string;
  api: () => AgentEndpoint | undefined;
}

const MAX_NAMES = 2048;
const MAX_PAIRS = 2048;
const MAX_IDS_PER_PAIR = 32;
/** A pair's windows go out at most this often (real ms), unless a window was added. */
export const ENCOUNTER_GAP_MS = 5000;

export class ProximityView {
  readonly counters = { reads: 0, samples: 0, encounters: 0, failures: 0, namesSent: 0 };
  readonly #names = new Map<string, string>();
  readonly #sent = new Map<string, number>();
  readonly #cursor = new Map<string, number>();
  /** agent\0label → local id → windows (scenario seconds), and the last JSON published */
  readonly #pairs = new Map<string, { ids: Map<string, FeedWindow[]>; last: string; at: number; count: number }>();
  #namesVersion = 0;
  readonly #devices: Map<string, Scenario['devices'][number]>;
  readonly #crowdTeks = new Map<string, Uint8Array>();

  constructor(private readonly o: { sim: Sim; scenario: Scenario; publish: (e: unknown) => void; timeoutMs?: number }) {
    this.#devices = new Map(o.scenario.devices.map((d) => [d.id, d]));
  }

  /** One round: names to every agent when new RPIs appeared, then each agent's new samples and windows. */
  async poll(agents: ProximityAgent[]): Promise<void> {
    this.#learnNames();
    await Promise.all(
      agents.map(async (a) => {
        const api = a.api();
        if (!api) return;
        try {
          await this.#sendNames(a.id, api);
          await this.#read(a.id, api);
        } catch {
          this.counters.failures++;
        }
      }),
    );
  }

  /** The RPI each simulated device advertises now (public air data), named by its scenario id. */
  #learnNames(): void {
    const sim = this.o.sim;
    const now = sim.clock.now();
    let fresh = false;
    for (const d of this.#devices.values()) {
      let payload: Uint8Array | undefined;
      if (d.hostless) {
        let tek = this.#crowdTeks.get(d.id);
        if (!tek) this.#crowdTeks.set(d.id, (tek = crowdTek(this.o.scenario, d.id)));
        payload = enIdentity(tek, now, d.txPower).payload;
      } else {
        try {
          payload = (sim.device(d.id).adv as { st?: { advData?: Uint8Array } } | undefined)?.st?.advData;
        } catch {
          payload = undefined;
        }
      }
      if (!payload?.length) continue;
      let rpi: string;
      try {
        const a = decodeAdvert(payload);
        if (a.kind !== 'exposure-notification') continue;
        rpi = toHex(a.rpi);
      } catch {
        continue;
      }
      if (this.#names.get(rpi) === d.id) continue;
      this.#names.delete(rpi);
      this.#names.set(rpi, d.id);
      fresh = true;
      if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.keys().next().value as string);
    }
    if (fresh) this.#namesVersion++;
  }

  async #sendNames(agent: string, api: AgentEndpoint): Promise<void> {
    if (this.#sent.get(agent) === this.#namesVersion || this.#names.size === 0) return;
    // the newest 512 (the agent keeps at most that many)
    const names = [...this.#names].slice(-512).map(([rpi, name]) => ({ rpi, name }));
    const r = await fetch(`http://127.0.0.1:${api.port}/proximity/names`, {
      method: 'POST',
      headers: agentHeaders(api, true),
      body: JSON.stringify({ names }),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 3000),
    });
    await r.body?.cancel();
    if (!r.ok) throw new Error(`names: ${r.status}`);
    this.#sent.set(agent, this.#namesVersion);
    this.counters.namesSent++;
  }

  async #read(agent: string, api: AgentEndpoint): Promise<void> {
    const after = this.#cursor.get(agent) ?? 0;
    const r = await fetch(`http://127.0.0.1:${api.port}/proximity/since/${after}`, {
      headers: agentHeaders(api),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 3000),
    });
    if (!r.ok) {
      await r.body?.cancel();
      throw new Error(`feed: ${r.status}`);
    }
    const feed = (await r.json()) as FeedRead;
    this.counters.reads++;
    this.#cursor.set(agent, feed.next);
    const start = this.o.sim.clock.startTime;
    const sec = (ms: number): number => Math.max(0, (ms - start) / 1000);
    const labels = new Map(feed.peers.map((p) => [p.id, p.label]));
    const self = this.#devices.get(agent);
    for (const s of feed.samples) {
      const peer = labels.get(s.peer) ?? s.peer;
      // its own advertiser, heard by its scanner beside it: not an encounter
      if (peer === agent) continue;
      const t = sec(s.t);
      const other = this.#devices.get(peer);
      const distance = self && other ? dist(positionAt(self.path, t), positionAt(other.path, t)) : undefined;
      this.o.publish({
        type: 'rssi',
        device: agent,
        peer,
        rssi: s.rssi,
        raw: s.raw,
        attenuation: s.att,
        t,
        ...(distance !== undefined ? { distance: Math.round(distance * 100) / 100 } : {}),
      });
      this.counters.samples++;
    }
    for (const p of feed.peers) {
      if (!p.windows.length || p.label === agent) continue;
      const key = `${agent}\u0000${p.label}`;
      let pair = this.#pairs.get(key);
      if (!pair) {
        this.#pairs.set(key, (pair = { ids: new Map(), last: '', at: -Infinity, count: 0 }));
        if (this.#pairs.size > MAX_PAIRS) this.#pairs.delete(this.#pairs.keys().next().value as string);
      }
      pair.ids.delete(p.id);
      pair.ids.set(p.id, p.windows);
      if (pair.ids.size > MAX_IDS_PER_PAIR) pair.ids.delete(pair.ids.keys().next().value as string);
      const windows = [...pair.ids.values()]
        .flat()
        .sort((a, b) => a.start - b.start)
        .slice(-MAX_WINDOWS)
        .map((w) => ({ start: sec(w.start), end: sec(Math.max(w.start, w.end)), minutes: w.msByBucket.map((ms) => Math.round(ms / 600) / 100) }));
      const now = performance.now();
      if (windows.length === pair.count && now - pair.at < ENCOUNTER_GAP_MS) continue;
      const e = { type: 'encounter', device: agent, peer: p.label, edges: feed.edges, windows };
      const json = JSON.stringify(e);
      if (json === pair.last) continue;
      Object.assign(pair, { last: json, at: now, count: windows.length });
      this.o.publish(e);
      this.counters.encounters++;
    }
  }
}

const dist = (a: { x: number; y: number }, b: { x: number; y: number }): number => Math.hypot(a.x - b.x, a.y - b.y);
