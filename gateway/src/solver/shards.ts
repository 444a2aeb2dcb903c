/**
 * Several gateways (gateway/README.md "Several gateways"): each gateway process
 * keeps its own log shard (its ledger directory, signed with its own ledger key);
 * whoever reads the tracing chain reads every shard.
 *
 * **The re-delivery rule: a batch counts once system-wide, by its entry hash**
 * (the RFC 9162 leaf hash of the exact batch bytes). Each shard's ledger is
 * idempotent by entry hash on its own; across shards, the same bytes can be
 * durable twice: a gateway made the batch durable (fsync) and died before its
 * PUBACK or before the device had the receipt, the device re-sent the same
 * bytes (or the broker re-delivered them), and the share group handed them to a
 * sibling, which appended them to its own shard and answered with its own
 * receipt. Both copies are valid entries of their shards and both receipts
 * verify, each against the key of the shard that issued it; the readers
 * (`countShards`, the solver) count the first copy they read and skip later
 * ones as duplicates, so the records count once. Nothing is written to resolve
 * it (no cross-shard lookup on the ingest path): the rule is applied where the
 * shards meet, by the readers.
 */
import { BeepkitError } from '@beepkit/protocol';
import { isEndorsement } from '@beepkit/protocol/endorse';
import type { Ledger } from '../ledger/types.ts';
import { EmbeddedLedger } from '../ledger/embedded.ts';
import { readMeta } from '../ledger/verify.ts';
import { BatchScanner } from './scan.ts';

/** Entry hashes already counted, across shards (latin1 strings of the 32 bytes: ~100 B each in a Set). */
export class SeenEntries {
  readonly #seen = new Set<string>();
  /** true the first time `entryHash` is offered. */
  first(entryHash: Uint8Array): boolean {
    const k = Buffer.from(entryHash.buffer, entryHash.byteOffset, entryHash.length).toString('latin1');
    if (this.#seen.has(k)) return false;
    this.#seen.add(k);
    return true;
  }
  get size(): number {
    return this.#seen.size;
  }
}

export interface ShardTally {
  /** Hex of the shard's ledger public key (ledger.json), or the index when unknown. */
  key: string;
  tracingEntries: number;
  batches: number;
  records: number;
  endorsements: number;
  /** Entries of this shard already counted from an earlier shard. */
  duplicates: number;
}

export interface ShardCount {
  shards: ShardTally[];
  /** System-wide, each entry hash once. */
  batches: number;
  records: number;
  endorsements: number;
  duplicates: number;
  /** Entries that are not batches nor endorsements (structure refused). */
  unreadable: number;
}

/** Counts the tracing chains of `shards` under the re-delivery rule (in shard order: the first copy counts). */
export async function countShards(shards: { key: string; ledger: Pick<Ledger, 'blocks'> }[]): Promise<ShardCount> {
  const seen = new SeenEntries();
  const scanner = new BatchScanner();
  const out: ShardCount = { shards: [], batches: 0, records: 0, endorsements: 0, duplicates: 0, unreadable: 0 };
  for (const s of shards) {
    const t: ShardTally = { key: s.key, tracingEntries: 0, batches: 0, records: 0, endorsements: 0, duplicates: 0 };
    for (let h = 0; ;) {
      const blocks = await s.ledger.blocks('tracing', h, 64);
      if (blocks.length === 0) break;
      for (const b of blocks) {
        for (const e of b.entries) {
          t.tracingEntries++;
          if (!seen.first(e.entryHash)) {
            t.duplicates++;
            continue;
          }
          if (isEndorsement(e.data)) {
            t.endorsements++;
            continue;
          }
          try {
            t.records += scanner.scan(e.data).count;
            t.batches++;
          } catch {
            out.unreadable++;
          }
        }
      }
      h = blocks[blocks.length - 1].header.height + 1;
    }
    out.shards.push(t);
    out.batches += t.batches;
    out.records += t.records;
    out.endorsements += t.endorsements;
    out.duplicates += t.duplicates;
  }
  return out;
}

/** Opens ledger directories read-only (closing the ones opened when one fails). */
export async function openShardsReadOnly(dirs: string[]): Promise<{ key: string; ledger: EmbeddedLedger }[]> {
  const out: { key: string; ledger: EmbeddedLedger }[] = [];
  try {
    for (const dir of dirs) {
      const ledger = new EmbeddedLedger({ dir, readOnly: true });
      await ledger.open();
      out.push({ key: readMeta(dir).publicKey, ledger });
    }
  } catch (e) {
    await Promise.allSettled(out.map((s) => s.ledger.close()));
    throw e instanceof BeepkitError ? e : new BeepkitError('E_IO', `opening the shards failed: ${String(e)}`, { cause: e });
  }
  const keys = new Set(out.map((s) => s.key));
  if (keys.size !== out.length) {
    await Promise.allSettled(out.map((s) => s.ledger.close()));
    throw new BeepkitError('E_CONFIG', 'two shard directories hold the same ledger key: each gateway process needs its own data dir');
  }
  return out;
}
