/** Seams of the solver: where tracing-chain blocks come from and where results go. */
import type { Ledger } from '../ledger/types.ts';

export interface SourceBlock {
  height: number;
  timeMs: number;
  entries: Uint8Array[];
  /** The entries' entry hashes (leaf hashes), when the source has them: the cross-shard duplicate check uses them. */
  hashes?: Uint8Array[];
}

/** Streams tracing-chain entries from a height. */
export interface TracingSource {
  blocks(fromHeight: number, max: number): Promise<SourceBlock[]>;
}

/** Appends notification-chain entries (the gateway feed's publishNotification). */
export interface NotificationSink {
  publish(entries: Uint8Array[]): Promise<unknown>;
}

/** A TracingSource over the Ledger API. */
export function ledgerTracingSource(ledger: Pick<Ledger, 'blocks'>): TracingSource {
  return {
    async blocks(from, max) {
      const bs = await ledger.blocks('tracing', from, max);
      return bs.map((b) => ({
        height: b.header.height,
        timeMs: b.header.timeMs,
        entries: b.entries.map((e) => e.data),
        hashes: b.entries.map((e) => e.entryHash),
      }));
    },
  };
}

/** A NotificationSink appending straight to a ledger (no broadcast; tests, offline runs). */
export function ledgerNotificationSink(ledger: Pick<Ledger, 'append'>): NotificationSink {
  return {
    publish: (entries) =>
      ledger.append(
        'notification',
        entries.map((data) => ({ data })),
      ),
  };
}
