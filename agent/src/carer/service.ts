/**
 * The carer inside the running agent: pairs on request (the comparison code is
 * handed out, the code the wearable shows is typed back), syncs paired
 * wearables over GATT (every `syncIntervalMs`, and when the radio sees one),
 * hands every record to the sink (the WearableProxy's outbox) before it is
 * acknowledged, and runs `afterSync` while the link is still up (the
 * wearable's CA request). One GATT session at a time. Status carries labels
 * and counts only: no keys, ids, addresses or pseudonyms.
 */
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex } from '@beepkit/protocol/bytes';
import { carerIrk, resolvesTo } from '@beepkit/protocol/rpi';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import { withTimeout } from '@beepkit/device-core/radio';
import type { GattCentralPort } from '@beepkit/device-core/radio';
import { CarerClient, type SyncResult, type WearableRecord } from './client.ts';
import { codeOf, type RandomSource } from '@beepkit/protocol/carer';
import type { CarerStore } from './store.ts';
import { hostNow } from '@beepkit/protocol/clock';

export interface CarerServiceOptions {
  store: CarerStore;
  /** The GATT central (not yet started: the service starts it on first use). */
  central: () => GattCentralPort;
  sink: (r: WearableRecord) => Promise<void>;
  /** After a complete sync, link still up. */
  afterSync?: (r: SyncResult) => Promise<void>;
  /** Wearable id → name of the person (config carer.labels). */
  labels?: Record<string, string>;
  syncIntervalMs?: number;
  autoSync?: boolean;
  minSyncGapMs?: number;
  findTimeoutMs?: number;
  sessionTimeoutMs?: number;
  /** How long a started pairing waits for the typed code (default 120 s). */
  confirmTimeoutMs?: number;
  /**
   * A whole sync session (find, connect, transfer, after-sync) is given up after this long
   * (default findTimeoutMs + 10 × sessionTimeoutMs), so a stuck radio operation never blocks
   * the sessions queued behind it.
   */
  syncCapMs?: number;
  logger?: Logger;
  now?: () => number;
  random?: RandomSource;
}

export type PairingState = 'idle' | 'finding' | 'comparing' | 'transferring';

export interface PairStarted {
  /** The carer's comparison code (the wearable shows the same one unless someone is in the middle). */
  code: string;
}

export interface PairOutcome {
  paired: true;
  label: string;
  days: number;
  delivered: number;
}

export interface CarerStatus {
  enabled: true;
  pairing: PairingState;
  /** Per wearable label: counts only (records received, day keys held, EN encounters held). */
  wearables: { label: string; pairedMs: number; records: number; days: number; encounters: number; lastSyncMs?: number; lastError?: string }[];
  syncs: number;
  failures: Record<string, number>;
}

interface Pending {
  state: PairingState;
  code?: string;
  answer?: (typed: string | null) => void;
  result: Promise<SyncResult>;
  /** Aborts the search for the wearable (cancel). */
  abort: AbortController;
  /** Settles once the pairing is over and #pending cleared. */
  over?: Promise<void>;
}

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

export class CarerService {
  readonly #o: CarerServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #client: CarerClient;
  #central?: Promise<GattCentralPort>;
  #busy: Promise<unknown> = Promise.resolve();
  #pending?: Pending;
  #lastPairError?: string;
  #timer?: NodeJS.Timeout;
  #running = false;
  #syncs = 0;
  readonly #failures: Record<string, number> = {};
  readonly #lastError = new Map<string, string>();
  readonly #lastTry = new Map<string, number>();
  /** IRK by pairing key (hex). */
  readonly #irks = new Map<string, Uint8Array>();

  constructor(o: CarerServiceOptions) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
    this.#now = o.now ?? hostNow;
    this.#client = new CarerClient({
      store: o.store,
      sink: o.sink,
      logger: this.#log,
      timeoutMs: o.sessionTimeoutMs ?? 20_000,
      now: this.#now,
      random: o.random,
      onSynced: o.afterSync,
    });
  }

  start(): void {
    this.#running = true;
    const every = this.#o.syncIntervalMs ?? 300_000;
    if (every > 0) this.#timer = setInterval(() => void this.sync(undefined, 'interval').catch(() => {}), every);
    // the central is opened when first needed; with autoSync, as soon as possible
    if (this.#o.autoSync ?? true) void this.#gatt().catch((e: unknown) => this.#log.warn({ code: codeOf(e) }, 'carer: GATT central not available yet'));
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#pending?.abort.abort();
    this.#pending?.answer?.(null);
    await this.#busy.catch(() => {});
    const c = await this.#central?.catch(() => undefined);
    await c?.stop();
    this.#central = undefined;
  }

  #gatt(): Promise<GattCentralPort> {
    if (!this.#central) {
      const c = this.#o.central();
      this.#central = c.start().then(() => {
        c.on('seen', (a) => this.#onSeen(a));
        return c;
      });
      this.#central.catch(() => (this.#central = undefined));
    }
    return this.#central;
  }

  /** One GATT session at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => {});
    return run;
  }

  #fail(what: string, e: unknown, label?: string): void {
    const code = codeOf(e);
    this.#failures[code] = (this.#failures[code] ?? 0) + 1;
    if (label) this.#lastError.set(label, code);
    this.#log.warn({ code, label, err: (e as Error)?.message?.slice(0, 200) }, what);
  }

  /**
   * Starts a pairing: finds a wearable in pairing mode (or the one at `address`), runs the key
   * exchange, resolves with the comparison code. Then `confirm(typed)` with the code the wearable shows.
   */
  async pair(req: { label?: string; address?: string } = {}): Promise<PairStarted> {
    if (!this.#running) throw new BeepkitError('E_STATE', 'carer not running');
    if (this.#pending) throw new BeepkitError('E_BUSY', 'a pairing is already in progress');
    const code = deferred<string>();
    const answer = deferred<string | null>();
    const ac = new AbortController();
    const cancelled = () => new BeepkitError('E_ABORTED', 'pairing cancelled');
    const p: Pending = { state: 'finding', result: Promise.resolve() as unknown as Promise<SyncResult>, abort: ac };
    this.#pending = p;
    this.#lastPairError = undefined;
    p.result = this.#exclusive(async () => {
      if (ac.signal.aborted) throw cancelled();
      const central = await this.#gatt();
      const { address, link } = await central.reach(this.#o.findTimeoutMs ?? 60_000, req.address, ac.signal);
      if (ac.signal.aborted) {
        await link.close().catch(() => {});
        throw cancelled();
      }
      const t = setTimeout(() => answer.resolve(null), this.#o.confirmTimeoutMs ?? 120_000);
      try {
        return await this.#client.pair(
          link,
          async (c) => {
            p.state = 'comparing';
            p.code = c;
            p.answer = answer.resolve;
            code.resolve(c);
            const typed = await answer.promise;
            if (typed === null) throw ac.signal.aborted ? cancelled() : new BeepkitError('E_TIMEOUT', 'pairing: no code typed in time');
            p.state = 'transferring';
            return typed === c;
          },
          req.label,
          address,
        );
      } finally {
        clearTimeout(t);
      }
    });
    p.over = p.result
      .then(
        async (r) => {
          const named = !req.label && this.#o.labels?.[r.wearableId];
          if (named) await this.#o.store.update(r.wearableId, { label: named });
          this.#syncs++;
        },
        (e: unknown) => {
          this.#fail('carer: pairing failed', e);
          code.reject(e);
        },
      )
      .catch((e: unknown) => this.#fail('carer: after pairing', e))
      .finally(() => {
        if (this.#pending === p) this.#pending = undefined;
      });
    p.result.catch((e: unknown) => (this.#lastPairError = codeOf(e)));
    return { code: await code.promise };
  }

  /** Completes the pairing started by pair(): `typed` is the code the wearable shows. Wrong → E_CODE, nothing transferred. */
  async confirm(typed: string): Promise<PairOutcome> {
    const p = this.#pending;
    if (!p?.answer)
      throw new BeepkitError('E_STATE', `no pairing is waiting for a code${this.#lastPairError ? ` (the last one ended with ${this.#lastPairError})` : ''}`);
    p.answer(String(typed).trim());
    const r = await p.result;
    const e = this.#o.store.find(r.wearableId);
    return { paired: true, label: e.label, days: r.days, delivered: r.delivered };
  }

  /**
   * Cancels the pairing in progress: the search for the wearable stops (its scan lease is released) or, when
   * comparing codes, the exchange is aborted; resolves once it is over (bounded by `waitMs`). A pairing already
   * transferring keys is left to finish (cancelled: false).
   */
  async cancel(waitMs = 20_000): Promise<{ cancelled: boolean; pairing: PairingState }> {
    const p = this.#pending;
    if (!p || p.state === 'transferring') return { cancelled: false, pairing: p?.state ?? 'idle' };
    p.abort.abort();
    p.answer?.(null);
    await withTimeout(p.over ?? Promise.resolve(), waitMs, 'cancel').catch(() => {});
    this.#log.info({ pairing: this.#pending?.state ?? 'idle' }, 'carer: pairing cancelled');
    return { cancelled: true, pairing: this.#pending?.state ?? 'idle' };
  }

  /** Syncs one paired wearable (id or label) or all of them; failures are reported per wearable. */
  async sync(idOrLabel?: string, trigger = 'request'): Promise<(SyncResult | { label: string; error: string })[]> {
    const entries = idOrLabel ? [this.#o.store.find(idOrLabel)] : this.#o.store.list();
    const out: (SyncResult | { label: string; error: string })[] = [];
    for (const e of entries) {
      try {
        out.push(await this.#syncOne(e.wearableId, trigger));
      } catch (err) {
        out.push({ label: e.label, error: codeOf(err) });
      }
    }
    return out;
  }

  #syncOne(wearableId: string, trigger: string): Promise<SyncResult> {
    this.#lastTry.set(wearableId, this.#now());
    const findMs = this.#o.findTimeoutMs ?? 60_000;
    const cap = this.#o.syncCapMs ?? findMs + 10 * (this.#o.sessionTimeoutMs ?? 20_000);
    return this.#exclusive(async () => {
      const e = this.#o.store.find(wearableId);
      let link: Awaited<ReturnType<GattCentralPort['connect']>> | undefined;
      try {
        if (!this.#running) throw new BeepkitError('E_STATE', 'carer not running');
        this.#log.info({ label: e.label, trigger }, 'carer: sync started');
        const r = await withTimeout(
          (async () => {
            const central = await this.#gatt();
            const found = await central.reach(findMs, e.address ? (a) => this.#isOf(e, a) : undefined);
            const address = found.address;
            link = found.link;
            const res = await this.#client.sync(link, wearableId);
            if (e.address !== address) await this.#o.store.update(wearableId, { address });
            return res;
          })(),
          cap,
          'sync session',
        );
        await this.#o.store.markSeen(wearableId, [], this.#now());
        this.#syncs++;
        this.#lastError.delete(e.label);
        return r;
      } catch (err) {
        await link?.close().catch(() => {});
        this.#fail('carer: sync failed', err, e.label);
        throw err;
      }
    });
  }

  /**
   * Whether `address` is the wearable's: where it was last seen, or a resolvable private address of its
   * pairing (a paired wearable rotates its address with its RPIs; only its carer can link them).
   */
  #isOf(e: { pairingKey: string; address?: string }, address: string): boolean {
    const a = address.toLowerCase();
    if (e.address?.toLowerCase() === a) return true;
    let irk = this.#irks.get(e.pairingKey);
    if (!irk) this.#irks.set(e.pairingKey, (irk = carerIrk(fromHex(e.pairingKey))));
    return resolvesTo(irk, a);
  }

  #onSeen(address: string): void {
    if (!this.#running || !(this.#o.autoSync ?? true) || this.#pending) return;
    const e = this.#o.store.list().find((w) => this.#isOf(w, address));
    if (!e) return;
    const gap = this.#o.minSyncGapMs ?? 60_000;
    if (this.#now() - (this.#lastTry.get(e.wearableId) ?? -Infinity) < gap) return;
    void this.#syncOne(e.wearableId, 'seen').catch(() => {});
  }

  /** Unpairs (id or label): tells the wearable over a session unless `offline`, then forgets it. */
  async unpair(idOrLabel: string, o: { offline?: boolean } = {}): Promise<{ unpaired: boolean; told: boolean }> {
    const e = this.#o.store.find(idOrLabel);
    if (o.offline || !e.address) return { unpaired: await this.#client.unpair(e.wearableId), told: false };
    return this.#exclusive(async () => {
      let link;
      try {
        const central = await this.#gatt();
        link = (await central.reach(this.#o.findTimeoutMs ?? 60_000, (a) => this.#isOf(e, a))).link;
      } catch (err) {
        this.#fail('carer: could not reach the wearable to unpair; unpairing locally', err, e.label);
      }
      return { unpaired: await this.#client.unpair(e.wearableId, link), told: !!link };
    });
  }

  status(): CarerStatus {
    return {
      enabled: true,
      pairing: this.#pending?.state ?? 'idle',
      wearables: this.#o.store.list().map((w) => ({
        label: w.label,
        pairedMs: w.pairedMs,
        records: w.received ?? w.seen.length,
        days: w.days.length,
        encounters: this.#o.store.encounters.count(w.wearableId),
        ...(w.lastSyncMs !== undefined ? { lastSyncMs: w.lastSyncMs } : {}),
        ...(this.#lastError.has(w.label) ? { lastError: this.#lastError.get(w.label) } : {}),
      })),
      syncs: this.#syncs,
      failures: { ...this.#failures },
    };
  }
}
