/**
 * Durable outbox of opaque items (TraceCodes) keyed by their record hash.
 * `append` resolves only after write + fsync; batches are persisted before
 * they are handed out, so a re-send after a crash carries the same bytes;
 * `ackBatch`/`ackItems` mark delivery once the receipt is verified.
 * Bounded: when full, new items are refused or the oldest unbatched dropped
 * (counted and logged, never silent). Compacts when delivered data dominates.
 */
import { Writer } from '@beepkit/protocol/bytes';
import { BeepkitError } from '@beepkit/protocol/errors';
import { recordHash } from '@beepkit/protocol/tracecode';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { AppendFile } from './file.ts';
import { FLAG_ENCRYPTED, FRAME_OVERHEAD } from './frame.ts';
import { decodeRecord, encodeRecord, recordSize, Sealer, type OutboxRecord } from './records.ts';

export interface OutboxOptions {
  path: string;
  maxItems?: number;
  maxBytes?: number;
  whenFull?: 'refuse' | 'drop-oldest';
  batchMaxItems?: number;
  batchMaxBytes?: number;
  /** Item id; default protocol `recordHash` (the ledger's idempotency key). */
  idOf?: (item: Uint8Array) => Uint8Array;
  /** 32-byte key: items and batches are sealed at rest (ChaCha20-Poly1305). */
  key?: Uint8Array;
  /** Garbage bytes before compaction is considered (default 64 KiB). */
  compactMinBytes?: number;
  logger?: Logger;
}

export type OutboxInput = Uint8Array | { bytes: Uint8Array; group?: number };

export interface AppendResult {
  ids: Uint8Array[];
  accepted: number;
  duplicates: number;
  refused: number;
  dropped: number;
}

export interface Batch {
  seq: number;
  group: number;
  ids: Uint8Array[];
  items: Uint8Array[];
  bytes: Uint8Array;
}

export interface OutboxStats {
  pending: number;
  pendingBytes: number;
  openBatches: number;
  appended: number;
  duplicates: number;
  refused: number;
  dropped: number;
  delivered: number;
  compactions: number;
  tornBytesAtOpen: number;
  fileBytes: number;
}

interface Entry {
  id: Uint8Array;
  bytes: Uint8Array;
  group: number;
  batch?: number;
  size: number;
}
interface BatchState {
  seq: number;
  group: number;
  ids: Uint8Array[];
  bytes: Uint8Array;
  size: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Default batch encoding: u32 count, then u32-length-prefixed items. */
export function encodeBatchItems(items: Uint8Array[]): Uint8Array {
  const w = new Writer(64);
  w.u32(items.length);
  for (const it of items) w.lbytes(it);
  return w.finish();
}

export class Outbox {
  private readonly file: AppendFile;
  private readonly sealer: Sealer;
  private readonly log: Logger;
  private readonly idOf: (item: Uint8Array) => Uint8Array;
  private items = new Map<string, Entry>();
  private batches = new Map<number, BatchState>();
  private nextSeq = 1;
  private itemBytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private started = false;
  private readonly counters = { appended: 0, duplicates: 0, refused: 0, dropped: 0, delivered: 0, compactions: 0, tornBytesAtOpen: 0 };

  constructor(private readonly opts: OutboxOptions) {
    this.file = new AppendFile(opts.path);
    this.sealer = new Sealer(opts.key);
    this.log = opts.logger ?? silentLogger;
    this.idOf = opts.idOf ?? recordHash;
  }

  start(): Promise<void> {
    return this.run(async () => {
      const flags = this.sealer.encrypted ? FLAG_ENCRYPTED : 0;
      const res = await this.file.open(flags);
      if (res.flags !== flags)
        throw new BeepkitError(
          'E_KEY',
          `outbox: file is ${res.flags & FLAG_ENCRYPTED ? '' : 'not '}encrypted but a key was ${this.sealer.encrypted ? '' : 'not '}given`,
        );
      for (const body of res.bodies) this.replay(decodeRecord(body, this.sealer));
      this.counters.tornBytesAtOpen = res.droppedBytes;
      if (res.droppedBytes > 0 && !res.created) this.log.warn({ droppedBytes: res.droppedBytes }, 'outbox: dropped a torn tail at open');
      this.started = true;
      this.log.info({ pending: this.items.size, openBatches: this.batches.size }, 'outbox: opened');
    });
  }

  stop(): Promise<void> {
    return this.run(async () => {
      this.started = false;
      await this.file.close();
    });
  }

  /** Records items durably; resolves after fsync. Items already pending count as duplicates. */
  append(inputs: OutboxInput[]): Promise<AppendResult> {
    return this.run(async () => {
      this.ensureStarted();
      const res: AppendResult = { ids: [], accepted: 0, duplicates: 0, refused: 0, dropped: 0 };
      const bodies: Uint8Array[] = [];
      const dropped: Uint8Array[] = [];
      let accepted = 0;
      const seen = new Set<string>();
      for (const input of inputs) {
        const bytes = input instanceof Uint8Array ? input : input.bytes;
        const group = input instanceof Uint8Array ? 0 : (input.group ?? 0);
        const id = this.idOf(bytes);
        const k = hex(id);
        if (this.items.has(k) || seen.has(k)) {
          res.duplicates++;
          continue;
        }
        if (!this.makeRoom(bytes.length, dropped)) {
          res.refused++;
          continue;
        }
        const body = encodeRecord({ type: 'item', group, bytes }, this.sealer);
        bodies.push(body);
        seen.add(k);
        this.items.set(k, { id, bytes, group, size: body.length + FRAME_OVERHEAD });
        accepted++;
        this.itemBytes += bytes.length;
        res.ids.push(id);
      }
      if (dropped.length) bodies.unshift(encodeRecord({ type: 'drop', ids: dropped }, this.sealer));
      try {
        if (bodies.length) await this.file.append(bodies);
      } catch (e) {
        // Memory may now differ from disk (provisional items, drops): refuse
        // further work until restarted, which reloads the durable state.
        this.started = false;
        this.log.error({ code: (e as { code?: string }).code }, 'outbox: append failed; restart required');
        throw e;
      }
      res.accepted = accepted;
      res.dropped = dropped.length;
      this.counters.appended += res.accepted;
      this.counters.duplicates += res.duplicates;
      this.counters.refused += res.refused;
      this.counters.dropped += res.dropped;
      if (res.refused || res.dropped) this.log.warn({ refused: res.refused, dropped: res.dropped, policy: this.opts.whenFull ?? 'refuse' }, 'outbox: full');
      return res;
    });
  }

  /** Pending (undelivered) items in append order. */
  pending(): { id: Uint8Array; bytes: Uint8Array; group: number; batch?: number }[] {
    return [...this.items.values()].map((e) => ({ id: e.id, bytes: e.bytes, group: e.group, batch: e.batch }));
  }

  /**
   * The batch to send next: the oldest open (persisted, unacknowledged) batch,
   * else a new one from the oldest unbatched items of one group, persisted
   * (with its bytes from `build`) before it is returned. Undefined when idle.
   */
  nextBatch(build: (items: Uint8Array[], group: number) => Uint8Array = encodeBatchItems): Promise<Batch | undefined> {
    return this.run(async () => {
      this.ensureStarted();
      const open = [...this.batches.values()].sort((a, b) => a.seq - b.seq)[0];
      if (open) return this.view(open);
      const maxItems = this.opts.batchMaxItems ?? 64;
      const maxBytes = this.opts.batchMaxBytes ?? 256 * 1024;
      const chosen: Entry[] = [];
      let bytes = 0;
      for (const e of this.items.values()) {
        if (e.batch !== undefined || (chosen.length && e.group !== chosen[0].group)) continue;
        if (chosen.length && (chosen.length >= maxItems || bytes + e.bytes.length > maxBytes)) break;
        chosen.push(e);
        bytes += e.bytes.length;
      }
      if (!chosen.length) return undefined;
      const rec = {
        type: 'batch' as const,
        seq: this.nextSeq,
        group: chosen[0].group,
        ids: chosen.map((e) => e.id),
        bytes: build(
          chosen.map((e) => e.bytes),
          chosen[0].group,
        ),
      };
      await this.file.append([encodeRecord(rec, this.sealer)]);
      this.replay(rec);
      return this.view(this.batches.get(rec.seq)!);
    });
  }

  /** Marks a batch delivered (after its receipt verified). Returns items delivered. */
  ackBatch(seq: number): Promise<number> {
    return this.run(async () => {
      this.ensureStarted();
      const b = this.batches.get(seq);
      if (!b) return 0;
      const before = this.items.size;
      await this.file.append([encodeRecord({ type: 'ack', seq }, this.sealer)]);
      this.replay({ type: 'ack', seq });
      return this.delivered(before);
    });
  }

  /** Marks individual items delivered. Returns items delivered. */
  ackItems(ids: Uint8Array[]): Promise<number> {
    return this.run(async () => {
      this.ensureStarted();
      const known = ids.filter((id) => this.items.has(hex(id)));
      if (!known.length) return 0;
      const before = this.items.size;
      const rec: OutboxRecord = { type: 'delivered', ids: known };
      await this.file.append([encodeRecord(rec, this.sealer)]);
      this.replay(rec);
      return this.delivered(before);
    });
  }

  /** Rewrites the file with only the live state (atomic). */
  compact(): Promise<void> {
    return this.run(() => this.compactNow());
  }

  stats(): OutboxStats {
    return { ...this.counters, pending: this.items.size, pendingBytes: this.itemBytes, openBatches: this.batches.size, fileBytes: this.file.size };
  }

  private async delivered(before: number): Promise<number> {
    const n = before - this.items.size;
    this.counters.delivered += n;
    const live = this.liveBytes();
    const garbage = this.file.size - live;
    if (garbage >= (this.opts.compactMinBytes ?? 64 * 1024) && garbage > live) await this.compactNow();
    return n;
  }

  private async compactNow(): Promise<void> {
    this.ensureStarted();
    const bodies: Uint8Array[] = [];
    for (const e of this.items.values()) bodies.push(encodeRecord({ type: 'item', group: e.group, bytes: e.bytes }, this.sealer));
    for (const b of [...this.batches.values()].sort((x, y) => x.seq - y.seq)) bodies.push(encodeRecord({ type: 'batch', ...b }, this.sealer));
    const before = this.file.size;
    await this.file.rewrite(bodies, this.sealer.encrypted ? FLAG_ENCRYPTED : 0);
    this.counters.compactions++;
    this.log.info({ before, after: this.file.size }, 'outbox: compacted');
  }

  private liveBytes(): number {
    let n = 8;
    for (const e of this.items.values()) n += e.size;
    for (const b of this.batches.values()) n += b.size;
    return n;
  }

  /** Frees room for `len` more bytes by policy; false when the item must be refused. */
  private makeRoom(len: number, dropped: Uint8Array[]): boolean {
    const maxItems = this.opts.maxItems ?? 10_000;
    const maxBytes = this.opts.maxBytes ?? 16 * 1024 * 1024;
    const fits = (): boolean => this.items.size + 1 <= maxItems && this.itemBytes + len <= maxBytes;
    if (fits()) return true;
    if (len > maxBytes || this.opts.whenFull !== 'drop-oldest') return false;
    for (const [k, e] of this.items) {
      if (fits()) break;
      if (e.batch !== undefined) continue;
      this.forget(k);
      dropped.push(e.id);
    }
    return fits();
  }

  private replay(rec: OutboxRecord): void {
    switch (rec.type) {
      case 'item': {
        const id = this.idOf(rec.bytes);
        const k = hex(id);
        if (this.items.has(k)) return;
        this.items.set(k, { id, bytes: rec.bytes, group: rec.group, size: recordSize(rec, this.sealer) });
        this.itemBytes += rec.bytes.length;
        return;
      }
      case 'batch': {
        this.batches.set(rec.seq, { seq: rec.seq, group: rec.group, ids: rec.ids, bytes: rec.bytes, size: recordSize(rec, this.sealer) });
        this.nextSeq = Math.max(this.nextSeq, rec.seq + 1);
        for (const id of rec.ids) {
          const e = this.items.get(hex(id));
          if (e) e.batch = rec.seq;
        }
        return;
      }
      case 'ack': {
        const b = this.batches.get(rec.seq);
        if (!b) return;
        this.batches.delete(rec.seq);
        for (const id of b.ids) this.forget(hex(id));
        return;
      }
      case 'delivered':
      case 'drop':
        for (const id of rec.ids) this.forget(hex(id));
        return;
    }
  }

  private forget(k: string): void {
    const e = this.items.get(k);
    if (!e) return;
    this.items.delete(k);
    this.itemBytes -= e.bytes.length;
    if (e.batch === undefined) return;
    const b = this.batches.get(e.batch);
    if (b && !b.ids.some((id) => this.items.has(hex(id)))) this.batches.delete(e.batch);
  }

  private view(b: BatchState): Batch {
    return {
      seq: b.seq,
      group: b.group,
      ids: b.ids,
      items: b.ids.map((id) => this.items.get(hex(id))?.bytes).filter((x): x is Uint8Array => !!x),
      bytes: b.bytes,
    };
  }

  private ensureStarted(): void {
    if (!this.started) throw new BeepkitError('E_STATE', 'outbox: not started');
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
