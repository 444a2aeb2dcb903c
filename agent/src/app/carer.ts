/**
 * The agent as a carer (config `carer:`): the sealed CarerStore, the
 * CarerService (pairing and sync over a GATT central on the radio's own noble
 * instance, or on `carer.central`), records into the WearableProxy's outbox
 * (or, with no network, into the same per-wearable outbox file), and the
 * control routes of the local HTTP API (agent/README.md "Carer").
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { BeepkitError } from '@beepkit/protocol';
import type { Logger } from '../alerts/logger.ts';
import type { AgentConfig } from '../config/index.ts';
import { Outbox } from '@beepkit/device-core/outbox';
import { GattCentral } from '@beepkit/device-core/radio';
import type { GattCentralPort, Radio } from '@beepkit/device-core/radio';
import * as input from './carer-input.ts';
import { CarerService, handToOutbox, type CarerStore, type SyncResult, type WearableProxy, type WearableRecord } from '../carer/index.ts';

export interface AgentCarerOptions {
  config: AgentConfig;
  store: CarerStore;
  key: Uint8Array;
  logger: Logger;
  now: () => number;
  /** The agent's radio, when it runs one (its gattCentral, if it has one, shares the scanner's controller). */
  radio: () => Radio | undefined;
  /** The network's proxy for the wearables, when the agent has a network. */
  proxy: () => WearableProxy | undefined;
  /** Asks for the wearable's certificate of today while the link is up (Agent.authoriseWearable). */
  authorise: (wearableId: string) => Promise<number[]>;
}

export class AgentCarer {
  readonly service: CarerService;
  readonly #o: AgentCarerOptions;
  readonly #local = new Map<string, Promise<Outbox>>();

  constructor(o: AgentCarerOptions) {
    this.#o = o;
    const c = o.config.carer;
    this.service = new CarerService({
      store: o.store,
      logger: o.logger,
      now: o.now,
      labels: c.labels,
      syncIntervalMs: c.syncIntervalMs,
      autoSync: c.autoSync,
      minSyncGapMs: c.minSyncGapMs,
      findTimeoutMs: c.findTimeoutMs,
      sessionTimeoutMs: c.sessionTimeoutMs,
      central: () => this.#central(),
      sink: (r) => this.#take(r),
      afterSync: (r) => this.#afterSync(r),
    });
  }

  #central(): GattCentralPort {
    const c = this.#o.config;
    if (c.carer.central) return new GattCentral({ target: c.carer.central, powerOnTimeoutMs: c.radio.powerOnTimeoutMs });
    const radio = this.#o.radio();
    if (!radio?.gattCentral) throw new BeepkitError('E_CONFIG', 'config carer.central: needed when the agent runs no radio.scanner');
    return radio.gattCentral(c.radio.powerOnTimeoutMs);
  }

  async #take(r: WearableRecord): Promise<void> {
    const proxy = this.#o.proxy();
    if (proxy) return proxy.take(r);
    // no network: the same outbox file the proxy uploads from once there is one
    let p = this.#local.get(r.wearableId);
    if (!p) {
      p = (async () => {
        const dir = join(this.#o.config.dataDir, 'wearables', r.wearableId);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const ob = new Outbox({ path: join(dir, 'outbox'), key: this.#o.key, logger: this.#o.logger });
        await ob.start();
        return ob;
      })();
      this.#local.set(r.wearableId, p);
      p.catch(() => this.#local.delete(r.wearableId));
    }
    const res = await handToOutbox(await p, [r]);
    if (res.refused) throw new BeepkitError('E_FULL', `wearable outbox full (${res.refused} refused)`);
  }

  async #afterSync(r: SyncResult): Promise<void> {
    await this.#o.proxy()?.synced(r);
    const days = await this.#o.authorise(r.wearableId);
    if (days.length) this.#o.logger.info({ wearable: r.wearableId, days }, 'carer: wearable certificate requested after sync');
  }

  /** The people cared for: each paired wearable with its last sync (the pairing, which transfers keys and records, until a sync) and last error (the page's list). */
  people(): { wearableId: string; label: string; pairedMs: number; lastSyncMs?: number; lastError?: string }[] {
    const errors = new Map(this.service.status().wearables.map((w) => [w.label, w.lastError]));
    return this.#o.store
      .list()
      .map((w) => ({ wearableId: w.wearableId, label: w.label, pairedMs: w.pairedMs, lastSyncMs: w.lastSyncMs ?? w.pairedMs, lastError: errors.get(w.label) }));
  }

  /** Records held for the wearable at the carer, not yet uploaded (its outbox), when its outbox is open. */
  async waiting(wearableId: string): Promise<number | undefined> {
    const proxy = this.#o.proxy();
    const ob = proxy ? (await proxy.unit(wearableId).catch(() => undefined))?.outbox : await this.#local.get(wearableId)?.catch(() => undefined);
    return ob?.stats().pending;
  }

  start(): void {
    this.service.start();
  }

  async stop(): Promise<void> {
    await this.service.stop();
    for (const p of this.#local.values()) await (await p.catch(() => undefined))?.stop();
    this.#local.clear();
  }

  /** The /carer/* routes (JSON); bodies are validated first (carer-input.ts). */
  async route(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const s = this.service;
    const ok = (x: unknown) => ({ status: 200, body: x });
    if (method === 'GET' && path === '/carer') return ok(s.status());
    if (method === 'GET' && path === '/carer/wearables') {
      return ok(
        this.#o.store.list().map((w) => ({
          wearableId: w.wearableId,
          label: w.label,
          pairedMs: w.pairedMs,
          days: w.days.map((d) => d.day),
          records: w.received ?? w.seen.length,
          encounters: this.#o.store.encounters.count(w.wearableId),
          lastSyncMs: w.lastSyncMs,
        })),
      );
    }
    if (method !== 'POST') return undefined;
    if (path === '/carer/pair') {
      const b = input.fields(body, ['label', 'address']);
      return ok(await s.pair({ label: input.label(b.label), address: input.address(b.address) }));
    }
    if (path === '/carer/confirm') return ok(await s.confirm(input.code(input.fields(body, ['code']).code)));
    if (path === '/carer/cancel') {
      input.fields(body, []);
      return ok(await s.cancel());
    }
    if (path === '/carer/sync') return ok({ results: await s.sync(input.wearable(input.fields(body, ['wearable']).wearable)) });
    if (path === '/carer/unpair') {
      const b = input.fields(body, ['wearable', 'offline']);
      const w = input.wearable(b.wearable);
      if (!w) throw new BeepkitError('E_FORMAT', 'wearable: id or label needed');
      return ok(await s.unpair(w, { offline: input.flag(b.offline, 'offline') }));
    }
    return undefined;
  }
}
