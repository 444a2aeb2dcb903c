/**
 * Notification follower (BeepTrace step 12): subscribes to the broadcast feed
 * (same bytes for every agent), and after every (re)connect, a gap or a
 * rejected broadcast catches up from its persisted cursor with
 * CatchupRequests. Every block is verified against the cursor
 * (verifyNotificationBlock) before its entries are handed to `onBlock`; the
 * cursor is persisted after `onBlock` resolves, so each block is processed
 * once (at most once more after a crash between the two).
 *
 * A block that fails verification is rejected (counted by code, 'rejected'
 * event), never processed, and the cursor does not move; the follower then
 * asks the ledger for that height once. Work is serialised on one queue; the
 * MQTT handler only enqueues, so a catch-up reply is never stuck behind it.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { BeepkitError } from '@beepkit/protocol';
import { CORRELATION_ID_BYTES, decodeAs, topics, type UplinkKind, type WireMessage } from '@beepkit/protocol/wire';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import { loadCursor, saveCursor } from './cursor.ts';
import { verifyNotificationBlock, type ChainCursor } from './verify.ts';

export interface FeedTransport {
  subscribe(topic: string, handler: (topic: string, payload: Uint8Array) => void | Promise<void>): Promise<void>;
  request(kind: UplinkKind, m: WireMessage, timeoutMs?: number): Promise<WireMessage>;
  on(event: 'state', fn: (state: string) => void): unknown;
  off(event: 'state', fn: (state: string) => void): unknown;
  readonly connected: boolean;
}

export interface VerifiedBlock {
  height: number;
  timeMs: number;
  /** Entry data, in order (opaque here; see self-match.ts). */
  entries: Uint8Array[];
}

export interface FollowerOptions {
  mqtt: FeedTransport;
  /** The gateway's Ed25519 public key (signs blocks and tree heads). */
  gatewayPublicKey: Uint8Array;
  cursorPath: string;
  onBlock: (b: VerifiedBlock) => void | Promise<void>;
  maxBlocksPerRequest?: number;
  timeoutMs?: number;
  correlationId?: () => Uint8Array;
  logger?: Logger;
}

export type BlockSource = 'feed' | 'catchup';

export class Follower extends EventEmitter {
  readonly #o: FollowerOptions;
  readonly #log: Logger;
  #cursor!: ChainCursor;
  #queue: Promise<void> = Promise.resolve();
  #running = false;
  #catchupQueued = false;
  #stopSignal: Promise<void> = Promise.resolve();
  #signalStop?: () => void;
  readonly counters = { blocks: 0, entries: 0, broadcasts: 0, duplicates: 0, gaps: 0, catchups: 0, catchupBlocks: 0, rejected: 0, catchupFailures: 0 };
  /** Rejected blocks by code. */
  readonly rejectedByCode: Record<string, number> = {};
  readonly #onState = (s: string): void => {
    if (s === 'connected') this.catchUp();
  };

  constructor(opts: FollowerOptions) {
    super();
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Next height to process. */
  get height(): number {
    return this.#cursor?.height ?? 0;
  }

  async start(): Promise<void> {
    if (this.#running) throw new BeepkitError('E_STATE', 'follower already started');
    this.#cursor = await loadCursor(this.#o.cursorPath);
    this.#running = true;
    this.#stopSignal = new Promise((resolve) => (this.#signalStop = resolve));
    this.#o.mqtt.on('state', this.#onState);
    await this.#o.mqtt.subscribe(topics.notificationFeed(), (_t, payload) => this.#onFeed(payload));
    if (this.#o.mqtt.connected) this.catchUp();
  }

  /** Stops after the block in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#signalStop?.();
    this.#o.mqtt.off('state', this.#onState);
    await this.#queue;
  }

  /** Resolves when all queued work is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue;
  }

  /** Queues a catch-up from the cursor to the tip (coalesced). */
  catchUp(): Promise<void> {
    if (this.#catchupQueued) return this.#queue;
    this.#catchupQueued = true;
    return this.#enqueue(async () => {
      this.#catchupQueued = false;
      await this.#catchUpNow();
    });
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(() => (this.#running ? fn() : undefined));
    this.#queue = run.catch((e: unknown) => this.#log.warn({ code: (e as { code?: string }).code }, 'follow: work failed'));
    return this.#queue;
  }

  #onFeed(payload: Uint8Array): void {
    this.counters.broadcasts++;
    let m: { height: number; block: Uint8Array };
    try {
      m = decodeAs(payload, 'notification-block');
    } catch (e) {
      this.#reject(-1, e, 'feed');
      return;
    }
    void this.#enqueue(async () => {
      if (m.height < this.#cursor.height) {
        this.counters.duplicates++;
        return;
      }
      if (m.height > this.#cursor.height) {
        this.counters.gaps++;
        await this.#catchUpNow();
        if (m.height < this.#cursor.height) return; // the catch-up covered it
      }
      if (m.height !== this.#cursor.height) return;
      if (!(await this.#process(m.block, 'feed'))) await this.#catchUpNow();
    });
  }

  async #catchUpNow(): Promise<void> {
    this.counters.catchups++;
    const max = this.#o.maxBlocksPerRequest ?? 64;
    while (this.#running) {
      const from = this.#cursor.height;
      const correlationId = this.#o.correlationId?.() ?? new Uint8Array(randomBytes(CORRELATION_ID_BYTES));
      let reply: WireMessage | undefined;
      try {
        const request = this.#o.mqtt.request(
          'catchup-request',
          { type: 'catchup-request', correlationId, chain: 'notification', fromHeight: from, maxBlocks: max },
          this.#o.timeoutMs ?? 30_000,
        );
        request.catch(() => {});
        reply = await Promise.race([request, this.#stopSignal.then(() => undefined)]);
        if (!reply) return; // stopping
      } catch (e) {
        this.counters.catchupFailures++;
        this.#log.warn({ code: (e as { code?: string }).code, from }, 'follow: catch-up request failed; retried at the next trigger');
        return;
      }
      if (reply.type !== 'catchup-response' || reply.chain !== 'notification') {
        this.counters.catchupFailures++;
        this.#log.warn({ type: reply.type, code: reply.type === 'error' ? reply.code : undefined }, 'follow: catch-up refused');
        return;
      }
      for (const b of reply.blocks) {
        this.counters.catchupBlocks++;
        if (!(await this.#process(b, 'catchup'))) return;
      }
      if (reply.blocks.length === 0 || this.#cursor.height > reply.tipHeight) break;
    }
    this.emit('caught-up', { height: this.#cursor.height });
  }

  /** Verifies and processes one block; false when it was rejected. */
  async #process(bytes: Uint8Array, source: BlockSource): Promise<boolean> {
    let v: ReturnType<typeof verifyNotificationBlock>;
    try {
      v = verifyNotificationBlock(bytes, this.#cursor, this.#o.gatewayPublicKey);
    } catch (e) {
      this.#reject(this.#cursor.height, e, source);
      return false;
    }
    const vb: VerifiedBlock = { height: v.block.header.height, timeMs: v.block.header.timeMs, entries: v.block.entries.map((e) => e.data) };
    await this.#o.onBlock(vb);
    await saveCursor(this.#o.cursorPath, v.next);
    this.#cursor = v.next;
    this.counters.blocks++;
    this.counters.entries += vb.entries.length;
    this.emit('block', vb);
    return true;
  }

  #reject(height: number, e: unknown, source: BlockSource): void {
    const code = (e as { code?: string }).code ?? 'E_INTERNAL';
    this.counters.rejected++;
    this.rejectedByCode[code] = (this.rejectedByCode[code] ?? 0) + 1;
    this.#log.warn({ code, height, source }, 'follow: block rejected');
    this.emit('rejected', { height, code, source, message: (e as Error).message });
  }
}
