/**
 * One chain of the embedded ledger: segment storage, the chain-wide RFC 9162
 * tree (level hashes in memory), compact indexes, and the group-commit queue.
 * In-memory state changes only after a block's write + fdatasync succeeded.
 */
import { join } from 'node:path';
import { BeepkitError, Reader, equalBytes } from '@beepkit/protocol';
import { HASH_SIZE, MerkleTree, keyIdOf, leafHash, rootOf, signingBytes, type SignedTreeHead } from '@beepkit/protocol/merkle';
import { blockHash, blockSigningBytes, decodeBlock, encodeBlock, readEntry, type Block, type BlockHeader, type ChainName } from '@beepkit/protocol/ledger';
import { SEGMENT_HEADER, SegmentWriter } from './segment.ts';
import { tagOf } from './table.ts';
import { GroupKeys } from './group-keys.ts';
import { emptyState, statCover, writeIndex, type ChainState } from './index-file.ts';
import { recoverChain, tailHash } from './recover.ts';
import type { AppendInput, AppendResult, LedgerEntry, Logger, Receipt, Signer } from './types.ts';

export interface ChainOptions {
  dir: string;
  name: ChainName;
  signer: Signer;
  logger: Logger;
  now: () => number;
  groupCommit: boolean;
  maxBlockEntries: number;
  segmentBytes: number;
  readOnly: boolean;
}

interface Pending {
  entries: AppendInput[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

export class Chain {
  private s: ChainState = emptyState();
  /** Height covered by the index file on disk (-1: none or unknown). */
  private indexedHeight = -1;
  private readonly writer: SegmentWriter;
  private readonly keyId: Uint8Array;
  private queue: Pending[] = [];
  private writing = false;
  private scheduled = false;
  private broken: BeepkitError | undefined;
  /** The keys of the commit group being written (one commit at a time). */
  private readonly group = new GroupKeys();

  constructor(private readonly o: ChainOptions) {
    this.writer = new SegmentWriter(join(o.dir, o.name), o.segmentBytes);
    this.keyId = keyIdOf(o.signer.publicKey);
  }

  get tree(): MerkleTree {
    return this.s.tree;
  }

  get height(): number {
    return this.s.blocksMeta.length;
  }

  async open(): Promise<void> {
    const r = recoverChain({ chainDir: join(this.o.dir, this.o.name), name: this.o.name, keyId: this.keyId, readOnly: this.o.readOnly, logger: this.o.logger });
    this.s = r.state;
    await this.writer.start(r.segs, this.o.readOnly);
    this.indexedHeight = r.index === 'used' && r.loaded === 0 ? this.height : -1;
    if (r.loaded) this.o.logger.info({ chain: this.o.name, blocks: r.loaded, index: r.index }, 'ledger: blocks read from the segments at open');
    // the next open (after a crash too) reads the index instead of these records
    if (r.loaded) this.saveIndex();
  }

  async close(): Promise<void> {
    while (this.writing || this.queue.length) await new Promise((r) => setImmediate(r));
    await this.writer.stop();
    this.saveIndex();
  }

  /** Persists the index when it is behind (writable chains; a failure is logged, never thrown: open rebuilds). */
  private saveIndex(): void {
    if (this.o.readOnly || this.indexedHeight === this.height) return;
    const segs = this.writer.segments;
    const bytes = segs.map(() => SEGMENT_HEADER);
    for (const b of this.s.blocksMeta) bytes[b.seg] = b.offset + b.length;
    const chainDir = join(this.o.dir, this.o.name);
    try {
      writeIndex(
        chainDir,
        this.o.name,
        this.keyId,
        this.s,
        segs.map((g, i) => statCover(g.path, g.first, bytes[i])),
      );
      this.indexedHeight = this.height;
    } catch (err) {
      this.o.logger.warn({ chain: this.o.name, err: (err as Error).message }, 'ledger: could not write the index (the next open rebuilds it)');
    }
  }

  private tailHash(): Uint8Array {
    return tailHash(this.s);
  }

  append(entries: AppendInput[]): Promise<AppendResult[]> {
    if (this.o.readOnly) return Promise.reject(new BeepkitError('E_STATE', 'ledger opened read-only'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.writing || this.scheduled || !this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing || !this.queue.length) return;
    this.writing = true;
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length && (batch.length === 0 || (this.o.groupCommit && n + this.queue[0].entries.length <= this.o.maxBlockEntries))) {
      const p = this.queue.shift() as Pending;
      batch.push(p);
      n += p.entries.length;
    }
    try {
      const results = await this.commit(batch.flatMap((p) => p.entries));
      let i = 0;
      for (const p of batch) {
        p.resolve(results.slice(i, i + p.entries.length));
        i += p.entries.length;
      }
    } catch (err) {
      this.broken = err instanceof BeepkitError ? err : new BeepkitError('E_IO', `ledger write failed: ${(err as Error).message}`, { cause: err });
      for (const p of batch) p.reject(this.broken);
      for (const p of this.queue.splice(0)) p.reject(this.broken);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }

  /** Dedupes, writes one block, fsyncs, then updates memory. */
  private async commit(inputs: AppendInput[]): Promise<AppendResult[]> {
    const out: (AppendResult | number)[] = [];
    const fresh: Block['entries'] = [];
    const groupHash = new Map<string, number>();
    const firstLeaf = this.s.tree.size;
    this.group.clear(); // empty unless a failed commit left keys (the chain is broken then)
    for (const inp of inputs) {
      const eh = leafHash(inp.data);
      const keys = inp.keys ?? [];
      const hex = Buffer.from(eh.buffer, eh.byteOffset, eh.length).toString('latin1');
      const existing = this.findLeaf(eh);
      if (existing >= 0) {
        out.push(this.receiptAtBlock(existing));
        continue;
      }
      const inGroup = groupHash.get(hex);
      if (inGroup !== undefined) {
        out.push(inGroup);
        continue;
      }
      const taken = this.addNewKeys(keys);
      if (taken) {
        out.push({ error: { code: 'E_DUPLICATE', message: `key ${Buffer.from(taken).toString('hex')} already recorded in another entry` } });
        continue;
      }
      const leaf = firstLeaf + fresh.length;
      groupHash.set(hex, leaf);
      fresh.push({ entryHash: eh, data: inp.data, keys });
      out.push(leaf);
    }
    try {
      if (fresh.length) await this.writeBlock(fresh);
    } finally {
      this.group.clear();
    }
    const sth = this.s.blocksMeta[this.s.blocksMeta.length - 1]?.sth;
    return out.map((r) => (typeof r === 'number' ? this.receipt(r, sth as SignedTreeHead, this.height - 1) : r));
  }

  /** Writes `entries`, whose keys' tags are `this.group`'s, in order. */
  private async writeBlock(entries: Block['entries']): Promise<void> {
    const firstLeaf = this.s.tree.size;
    const timeMs = this.o.now();
    const base: Omit<BlockHeader, 'signature'> = {
      chain: this.o.name,
      height: this.height,
      prevHash: this.tailHash(),
      entriesRoot: rootOf(entries.map((e) => e.entryHash)),
      firstLeafIndex: firstLeaf,
      entryCount: entries.length,
      timeMs,
      keyId: this.keyId,
    };
    const header: BlockHeader = { ...base, signature: this.o.signer.sign(blockSigningBytes(base)) };
    for (const e of entries) this.s.tree.append(e.entryHash);
    const sthBase = {
      chainId: this.o.name,
      treeSize: this.s.tree.size,
      rootHash: this.s.tree.root(),
      timestampMs: timeMs,
      blockHeight: base.height,
      keyId: this.keyId,
    };
    const sth: SignedTreeHead = { ...sthBase, signature: this.o.signer.sign(signingBytes(sthBase)) };
    const { bytes, spans } = encodeBlock({ header, entries, sth });
    let where: { seg: number; offset: number };
    try {
      where = await this.writer.append(bytes, base.height);
    } catch (err) {
      this.s.tree.truncate(firstLeaf);
      throw err;
    }
    let key = 0;
    for (let i = 0; i < entries.length; i++) {
      const leaf = firstLeaf + i;
      this.s.byHash.insert(tagOf(entries[i].entryHash), leaf);
      for (let j = entries[i].keys.length; j > 0; j--) this.s.byKey.insert(this.group.tag(key++), leaf);
      this.s.locSeg.push(where.seg);
      this.s.locOff.push(where.offset + spans[i].offset);
      this.s.locLen.push(spans[i].length);
    }
    this.s.blocksMeta.push({ firstLeaf, count: entries.length, seg: where.seg, offset: where.offset, length: bytes.length, hash: blockHash(base), sth });
  }

  /**
   * Adds `keys` to the commit group when none is already in the chain, in this
   * group, or twice in `keys`, and returns undefined; otherwise adds none and
   * returns the first such key.
   */
  private addNewKeys(keys: Uint8Array[]): Uint8Array | undefined {
    const mark = this.group.count;
    for (const k of keys) {
      const tag = tagOf(k);
      if (!this.group.add(tag, k) || this.findKey(k, tag) >= 0) {
        this.group.truncate(mark);
        return k;
      }
    }
    return undefined;
  }

  findLeaf(entryHash: Uint8Array): number {
    if (entryHash.length !== HASH_SIZE) return -1;
    return this.s.byHash.find(tagOf(entryHash), (leaf) => leaf < this.s.locSeg.length && this.s.tree.leafEquals(leaf, entryHash));
  }

  findKey(key: Uint8Array, tag = tagOf(key)): number {
    return this.s.byKey.find(tag, (leaf) => leaf < this.s.locSeg.length && this.readLeaf(leaf).keys.some((k) => equalBytes(k, key)));
  }

  readLeaf(leaf: number): Block['entries'][number] {
    const buf = this.writer.read(this.s.locSeg.get(leaf), this.s.locOff.get(leaf), this.s.locLen.get(leaf));
    return readEntry(new Reader(buf, 'entry'));
  }

  blockOfLeaf(leaf: number): number {
    let lo = 0;
    let hi = this.s.blocksMeta.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.s.blocksMeta[mid].firstLeaf <= leaf) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  entry(leaf: number): LedgerEntry {
    const e = this.readLeaf(leaf);
    return { chain: this.o.name, entryHash: e.entryHash, leafIndex: leaf, blockHeight: this.blockOfLeaf(leaf), data: e.data, keys: e.keys };
  }

  /** The receipt the entry got when its block was committed. */
  receiptAtBlock(leaf: number): Receipt {
    const b = this.blockOfLeaf(leaf);
    return this.receipt(leaf, this.s.blocksMeta[b].sth, b);
  }

  receipt(leaf: number, sth: SignedTreeHead, blockHeight: number): Receipt {
    return {
      chain: this.o.name,
      entryHash: this.s.tree.leaf(leaf),
      leafIndex: leaf,
      blockHeight,
      inclusionProof: this.s.tree.inclusionProof(leaf, sth.treeSize),
      sth,
    };
  }

  /** The STH of the block that ends at `treeSize` (latest when undefined). */
  sthAt(treeSize?: number): { sth: SignedTreeHead; height: number } | undefined {
    if (!this.s.blocksMeta.length) return undefined;
    if (treeSize === undefined) return { sth: this.s.blocksMeta[this.height - 1].sth, height: this.height - 1 };
    const b = this.blockOfLeaf(Math.max(0, treeSize - 1));
    const m = this.s.blocksMeta[b];
    if (m.sth.treeSize !== treeSize) throw new BeepkitError('E_RANGE', `no tree head at size ${treeSize} (tree heads exist at block boundaries)`);
    return { sth: m.sth, height: b };
  }

  readBlock(height: number): Block {
    const m = this.s.blocksMeta[height];
    if (!m) throw new BeepkitError('E_RANGE', `no block ${height}`);
    return decodeBlock(this.writer.read(m.seg, m.offset, m.length)).block;
  }

  memoryBytes(): number {
    return this.s.tree.memoryBytes() + this.s.byHash.bytes() + this.s.byKey.bytes() + 3 * this.s.locSeg.buf.byteLength + this.s.blocksMeta.length * 400;
  }
}
