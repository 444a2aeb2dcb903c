/**
 * Notification feed: every new notification-chain block is broadcast, as ONE
 * NotificationBlock payload (same bytes for every subscriber, correlation id
 * zero), on `topics.notificationFeed()` at QoS 1; devices that missed blocks
 * ask with a CatchupRequest and get a bounded CatchupResponse. Venue status
 * queries are answered through a hook (default `empty`; the venue state
 * machine is a later issue).
 */
import { BeepkitError } from '@beepkit/protocol';
import { CORRELATION_ID_BYTES, encodeMessage, topics, type CatchupRequest, type VenueState } from '@beepkit/protocol/wire';
import { encodeBlock, type Block, type ChainName } from '@beepkit/protocol/ledger';
import { silentLogger } from '../broker/log.ts';
import type { AppendResult, Ledger, Logger } from '../ledger/types.ts';

const ZERO_CID = new Uint8Array(CORRELATION_ID_BYTES);

export type VenueStatusHook = (venueId: Uint8Array) => { state: VenueState; sinceMs: number } | undefined;

export interface FeedOptions {
  ledger: Pick<Ledger, 'append' | 'blocks' | 'tail' | 'sth'>;
  /** Broadcast: publishes the payload on the feed topic (QoS 1). */
  publish: (topic: string, payload: Uint8Array) => Promise<void>;
  /** Upper bounds of one CatchupResponse (default 64 blocks, 1 MiB). */
  maxCatchupBlocks?: number;
  maxCatchupBytes?: number;
  /** Venue state (default: `empty` since 0). */
  venueStatus?: VenueStatusHook;
  logger?: Logger;
}

/** The NotificationBlock payload of a block (exactly what every subscriber receives). */
export function notificationPayload(block: Block): Uint8Array {
  return encodeMessage({ type: 'notification-block', correlationId: ZERO_CID, height: block.header.height, block: encodeBlock(block).bytes });
}

export class NotificationFeed {
  readonly #o: FeedOptions;
  readonly #log: Logger;
  /** Next height to broadcast. */
  #next = -1;
  #chain: Promise<void> = Promise.resolve();
  broadcasts = 0;

  constructor(opts: FeedOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Starts broadcasting after the current tip (older blocks are served by catch-up). */
  async start(): Promise<void> {
    const tail = await this.#o.ledger.tail('notification');
    this.#next = tail ? tail.header.height + 1 : 0;
  }

  /**
   * Appends entries to the notification chain (durable, idempotent) and
   * broadcasts every block not yet broadcast. Resolves with the append results
   * once the broadcasts are handed to the broker.
   */
  async publishNotification(entries: Uint8Array[]): Promise<AppendResult[]> {
    if (this.#next < 0) throw new BeepkitError('E_STATE', 'feed not started');
    if (entries.length === 0) return [];
    const results = await this.#o.ledger.append(
      'notification',
      entries.map((data) => ({ data })),
    );
    await this.#broadcastNew();
    return results;
  }

  /** Broadcasts blocks from the next unbroadcast height to the tip, in order (serialised). */
  #broadcastNew(): Promise<void> {
    const run = this.#chain.then(async () => {
      for (;;) {
        const blocks = await this.#o.ledger.blocks('notification', this.#next, 16);
        if (blocks.length === 0) return;
        for (const b of blocks) {
          await this.#o.publish(topics.notificationFeed(), notificationPayload(b));
          this.broadcasts++;
          this.#next = b.header.height + 1;
        }
      }
    });
    this.#chain = run.catch((e: unknown) => this.#log.warn({ err: String(e) }, 'feed: broadcast failed; catch-up serves the block'));
    return run;
  }

  /** Answers a CatchupRequest (encoded CatchupResponse). */
  async catchup(req: CatchupRequest): Promise<Uint8Array> {
    const chain: ChainName = req.chain;
    const max = Math.min(req.maxBlocks, this.#o.maxCatchupBlocks ?? 64);
    const limit = this.#o.maxCatchupBytes ?? 1 << 20;
    const blocks = max > 0 ? await this.#o.ledger.blocks(chain, req.fromHeight, max) : [];
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const b of blocks) {
      const enc = encodeBlock(b).bytes;
      if (out.length > 0 && bytes + enc.length > limit) break;
      out.push(enc);
      bytes += enc.length;
    }
    const sth = await this.#o.ledger.sth(chain);
    return encodeMessage({ type: 'catchup-response', correlationId: req.correlationId, chain, blocks: out, tipHeight: sth ? sth.blockHeight : 0 });
  }

  /** Answers a venue status query (encoded VenueStatusReply). */
  venueStatus(correlationId: Uint8Array, venueId: Uint8Array): Uint8Array {
    const s = this.#o.venueStatus?.(venueId) ?? { state: 'empty' as const, sinceMs: 0 };
    return encodeMessage({ type: 'venue-status-reply', correlationId, venueId, state: s.state, sinceMs: s.sinceMs });
  }
}
