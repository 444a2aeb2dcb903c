/**
 * Follows the consortium chain's VenueRegistry (config `venues.chain`, README "Consortium
 * chain") into the gateway's venue states: regions (id → path), venues with their public keys
 * (the Ed25519 keys that sign cleaning sign-offs) and their infection state transitions
 * (empty / infected / clean with their times), so the pre-visit VenueStatusQuery answers what
 * the chain says.
 *
 * The chain is the source of truth and nothing is stored: a start reads every event from
 * genesis (so a crash loses nothing), then polls from the next block. A transition is applied
 * when it is not older than the venue's current state (the latest transition wins, whether it
 * came from the chain or from this gateway's notification chain). RPC failures (`E_RPC`) back
 * off (1 s doubling to 60 s) while the last known states keep answering; /status and the
 * metrics show the block reached, the failures and the last error.
 */
import { EventEmitter } from 'node:events';
import type { BeepkitError } from '@beepkit/protocol';
import { Counter, Gauge, type Registry } from '../app/metrics.ts';
import type { Logger } from '../ledger/types.ts';
import type { VenueRegistry as VenueStates } from './registry.ts';

export type VenueChainEvent = { block: bigint } & (
  | { type: 'region'; region: string; parent: string; path: string }
  /** sinceSec: the registration time (when the venue was still empty at reading). */
  | { type: 'venue'; venue: Uint8Array; region: string; publicKey: Uint8Array; sinceSec?: number }
  | { type: 'revoked'; venue: Uint8Array }
  | { type: 'state'; venue: Uint8Array; region: string; state: 'empty' | 'infected' | 'clean'; sinceSec: number; reason: number }
);

/** The chain side (anchor/venue-reader.ts over JSON-RPC; E_RPC when the node does not answer). */
export interface VenueChainSource {
  head(): Promise<bigint>;
  events(from: bigint, to: bigint): Promise<VenueChainEvent[]>;
}

export interface VenueChainOptions {
  source: VenueChainSource;
  states: VenueStates;
  /** For /status. */
  contract: string;
  pollMs: number;
  /** Blocks per eth_getLogs request (default 5000). */
  maxBlocks?: number;
  backoff?: { minMs: number; maxMs: number };
  logger: Logger;
  registry?: Registry;
}

/** Emits 'synced' (block) after each round that reached the chain head, 'poll-failed' (error) after a failed one. */
export class VenueChainFollower extends EventEmitter {
  readonly #o: VenueChainOptions;
  readonly #regions = new Map<string, string>();
  /** The last block applied (-1: none yet). */
  block = -1n;
  venues = 0;
  failures = 0;
  retryInMs = 0;
  lastError?: { code: string; message: string };
  #timer?: NodeJS.Timeout;
  #running?: Promise<void>;
  #stopped = false;
  readonly #events: Counter;
  readonly #errors: Counter;

  constructor(o: VenueChainOptions) {
    super();
    this.#o = o;
    const add = <T extends { render(): string[] }>(m: T): T => (o.registry ? o.registry.add(m) : m);
    this.#events = add(
      new Counter('beepkit_venue_chain_events_total', 'VenueRegistry events applied from the consortium chain, by type (region, venue, revoked, state)'),
    );
    this.#errors = add(
      new Counter(
        'beepkit_venue_chain_errors_total',
        'Failed VenueRegistry polls, by error code (E_RPC: node unreachable; the last known states keep answering)',
      ),
    );
    add(
      new Gauge('beepkit_venue_chain_block', 'The last consortium chain block whose VenueRegistry events are applied (-1: none yet)', () => [
        { value: Number(this.block) },
      ]),
    );
    add(new Gauge('beepkit_venue_chain_consecutive_failures', 'VenueRegistry polls failed in a row (backing off while > 0)', () => [{ value: this.failures }]));
  }

  start(): void {
    this.#schedule(0);
  }

  /** Polls now (after the round in flight) and resolves once block `n` is applied (never rejects; await with a timeout). */
  async caughtUp(n: bigint): Promise<void> {
    while (!this.#stopped && this.block < n) {
      await this.#running;
      if (this.block >= n) return;
      this.#kick();
      await this.#running;
      if (this.block < n && this.failures > 0) await new Promise((r) => this.once('synced', r));
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#kick(), ms);
    this.#timer.unref();
  }

  #kick(): void {
    if (this.#stopped || this.#running) return;
    clearTimeout(this.#timer);
    this.#running = this.#round().finally(() => (this.#running = undefined));
  }

  async #round(): Promise<void> {
    try {
      const head = await this.#o.source.head();
      const max = BigInt(this.#o.maxBlocks ?? 5000);
      while (this.block < head && !this.#stopped) {
        const to = head - this.block > max ? this.block + max : head;
        for (const e of await this.#o.source.events(this.block + 1n, to)) this.#apply(e);
        this.block = to;
      }
      if (this.failures > 0) this.#o.logger.info({ block: Number(this.block), failures: this.failures }, 'venue registry chain reachable again');
      this.failures = 0;
      this.retryInMs = 0;
      this.lastError = undefined;
      this.emit('synced', this.block);
      this.#schedule(this.#o.pollMs);
    } catch (e) {
      const code = (e as BeepkitError).code ?? 'E_INTERNAL';
      this.#errors.inc({ code });
      this.failures++;
      const b = this.#o.backoff ?? { minMs: 1000, maxMs: 60_000 };
      this.retryInMs = Math.min(b.maxMs, b.minMs * 2 ** Math.min(this.failures - 1, 16));
      this.lastError = { code, message: (e as Error).message };
      this.#o.logger.warn(
        { code, failures: this.failures, retryInMs: this.retryInMs, block: Number(this.block) },
        'venue registry chain poll failed; serving the last known states',
      );
      this.emit('poll-failed', e);
      this.#schedule(this.retryInMs);
    }
  }

  #apply(e: VenueChainEvent): void {
    const s = this.#o.states;
    this.#events.inc({ type: e.type });
    switch (e.type) {
      case 'region':
        this.#regions.set(e.region, e.path);
        return;
      case 'venue':
        this.venues++;
        s.register(e.venue, { region: this.#regions.get(e.region) ?? 'unknown/unknown/unknown', signoffKey: e.publicKey });
        if (e.sinceSec !== undefined) s.applyTransition(e.venue, 'empty', e.sinceSec * 1000);
        return;
      case 'revoked':
        s.revokeKey(e.venue); // a revoked venue's key signs no more sign-offs
        return;
      case 'state':
        s.applyTransition(e.venue, e.state, e.sinceSec * 1000);
        return;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  status(): Record<string, unknown> {
    return {
      contract: this.#o.contract,
      block: Number(this.block),
      regions: this.#regions.size,
      venues: this.venues,
      failures: this.failures,
      retryInMs: this.retryInMs,
      lastError: this.lastError ?? null,
    };
  }
}
