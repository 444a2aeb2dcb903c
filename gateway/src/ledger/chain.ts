/**
 * One chain of the embedded ledger: segment storage, the chain-wide RFC 9162
 * tree (level hashes in memory), compact indexes, and the group-commit queue.
 * In-memory state changes only after a block's write + fdatasync succeeded.
 */
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, Reader, equalBytes } from '@beepkit/protocol';
import { HASH_SIZE, MerkleTree, keyIdOf, leafHash, readSth, rootOf, signingBytes, type SignedTreeHead } from '@beepkit/protocol/merkle';
import { blockHash, blockSigningBytes, decodeBlock, encodeBlock, readEntry, readHeader, type Block, type BlockHeader, type ChainName } from '@beepkit/protocol/ledger';
import { SegmentWriter, listSegments, scanSegment, truncateFile } from './segment.ts';
import { TagTable, U32Vec, tagOf } from './table.ts';
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

interface BlockMeta {
  firstLeaf: number;
  count: number;
  seg: number;
  offset: number;
  length: number;
  hash: Uint8Array;
  sth: SignedTreeHead;
}

interface Pending {
  entries: AppendInput[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

const ZERO_HASH = new Uint8Array(HASH_SIZE);

/** Removes key `k` (added last under `tag`) from a commit group. */
function unGroup(group: Map<number, Uint8Array | Uint8Array[]>, tag: number, k: Uint8Array): void {
  const g = group.get(tag);
  if (g === k) group.delete(tag);
  else if (Array.isArray(g)) g.splice(g.lastIndexOf(k), 1);
}

export class Chain {
  readonly tree = new MerkleTree();
  private readonly blocksMeta: BlockMeta[] = [];
  private readonly locSeg = new U32Vec();
  private readonly locOff = new U32Vec();
  private readonly locLen = new U32Vec();
  private readonly byHash = new TagTable();
  private readonly byKey = new TagTable();
  private readonly writer: SegmentWriter;
  private readonly keyId: Uint8Array;
  private queue: Pending[] = [];
  private writing = false;
  private scheduled = false;
  private broken: BeepkitError | undefined;

  constructor(private readonly o: ChainOptions) {
    this.writer = new SegmentWriter(join(o.dir, o.name), o.segmentBytes);
    this.keyId = keyIdOf(o.signer.publicKey);
  }

  get height(): number {
    return this.blocksMeta.length;
  }

  async open(): Promise<void> {
    const dir = join(this.o.dir, this.o.name);
    mkdirSync(dir, { recursive: true });
    const segs = listSegments(dir);
    for (let s = 0; s < segs.length; s++) {
      const last = s === segs.length - 1;
      const res = scanSegment(segs[s], (payload, at) => this.load(payload, s, at));
      if (!res.problem) continue;
      if (!last || !res.problem.torn) throw new BeepkitError('E_CHECKSUM', `${segs[s].path}: ${res.problem.message}; run \`beepkit ledger verify\``);
      if (this.o.readOnly) {
        this.o.logger.warn({ chain: this.o.name, file: segs[s].path }, `ledger: torn tail ignored (read-only): ${res.problem.message}`);
        continue;
      }
      this.o.logger.warn({ chain: this.o.name, file: segs[s].path, dropped: res.size - res.validEnd }, `ledger: torn tail truncated (${res.problem.message})`);
      if (res.validEnd === 0) {
        unlinkSync(segs[s].path);
        segs.pop();
      } else truncateFile(segs[s].path, res.validEnd);
    }
    await this.writer.start(segs, this.o.readOnly);
  }

  async close(): Promise<void> {
    while (this.writing || this.queue.length) await new Promise((r) => setImmediate(r));
    await this.writer.stop();
  }

  /** Rebuilds state from one stored block record (open). */
  private load(payload: Uint8Array, seg: number, at: number): void {
    const r = new Reader(payload, 'block');
    const h = readHeader(r);
    if (h.height !== this.height || h.firstLeafIndex !== this.tree.size || !equalBytes(h.prevHash, this.tailHash())) {
      throw new BeepkitError('E_FORMAT', `${this.o.name}: block ${h.height} does not follow block ${this.height - 1}`);
    }
    for (let i = 0; i < h.entryCount; i++) {
      const start = r.offset;
      const eh = payload.subarray(start, start + HASH_SIZE);
      r.offset += HASH_SIZE;
      const dataLen = r.u32('entry.data.length');
      r.offset += dataLen;
      const n = r.u16('entry.keyCount');
      const leaf = this.tree.append(eh);
      for (let k = 0; k < n; k++) {
        const kl = r.u16('key.length');
        this.byKey.insert(tagOf(payload, r.offset, r.offset + kl), leaf);
        r.offset += kl;
      }
      this.byHash.insert(tagOf(eh), leaf);
      this.locSeg.push(seg);
      this.locOff.push(at + start);
      this.locLen.push(r.offset - start);
    }
    const sr = new Reader(r.lbytes('sth'), 'block.sth');
    const sth = readSth(sr);
    sr.end();
    r.end();
    this.blocksMeta.push({ firstLeaf: h.firstLeafIndex, count: h.entryCount, seg, offset: at, length: payload.length, hash: blockHash(h), sth });
  }

  private tailHash(): Uint8Array {
    return this.blocksMeta.length ? this.blocksMeta[this.blocksMeta.length - 1].hash : ZERO_HASH;
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
    const freshTags: number[][] = [];
    const groupHash = new Map<string, number>();
    const groupKeys = new Map<number, Uint8Array | Uint8Array[]>();
    const firstLeaf = this.tree.size;
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
      const tags = this.newKeyTags(keys, groupKeys);
      if (!Array.isArray(tags)) {
        out.push({ error: { code: 'E_DUPLICATE', message: `key ${Buffer.from(tags).toString('hex')} already recorded in another entry` } });
        continue;
      }
      const leaf = firstLeaf + fresh.length;
      groupHash.set(hex, leaf);
      fresh.push({ entryHash: eh, data: inp.data, keys });
      freshTags.push(tags);
      out.push(leaf);
    }
    if (fresh.length) await this.writeBlock(fresh, freshTags);
    const sth = this.blocksMeta[this.blocksMeta.length - 1]?.sth;
    return out.map((r) => (typeof r === 'number' ? this.receipt(r, sth as SignedTreeHead, this.height - 1) : r));
  }

  private async writeBlock(entries: Block['entries'], keyTags: number[][]): Promise<void> {
    const firstLeaf = this.tree.size;
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
    for (const e of entries) this.tree.append(e.entryHash);
    const sthBase = { chainId: this.o.name, treeSize: this.tree.size, rootHash: this.tree.root(), timestampMs: timeMs, blockHeight: base.height, keyId: this.keyId };
    const sth: SignedTreeHead = { ...sthBase, signature: this.o.signer.sign(signingBytes(sthBase)) };
    const { bytes, spans } = encodeBlock({ header, entries, sth });
    let where: { seg: number; offset: number };
    try {
      where = await this.writer.append(bytes, base.height);
    } catch (err) {
      this.tree.truncate(firstLeaf);
      throw err;
    }
    for (let i = 0; i < entries.length; i++) {
      const leaf = firstLeaf + i;
      this.byHash.insert(tagOf(entries[i].entryHash), leaf);
      for (const tag of keyTags[i]) this.byKey.insert(tag, leaf);
      this.locSeg.push(where.seg);
      this.locOff.push(where.offset + spans[i].offset);
      this.locLen.push(spans[i].length);
    }
    this.blocksMeta.push({ firstLeaf, count: entries.length, seg: where.seg, offset: where.offset, length: bytes.length, hash: blockHash(base), sth });
  }

  /**
   * The tags of `keys` when none is already in the chain, in this group, or
   * twice in `keys` (and adds them to the group); otherwise the first such key.
   */
  private newKeyTags(keys: Uint8Array[], group: Map<number, Uint8Array | Uint8Array[]>): number[] | Uint8Array {
    const tags: number[] = [];
    for (const k of keys) {
      const tag = tagOf(k);
      const g = group.get(tag);
      const inGroup = g !== undefined && (g instanceof Uint8Array ? equalBytes(g, k) : g.some((x) => equalBytes(x, k)));
      if (inGroup || this.findKey(k, tag) >= 0) {
        keys.slice(0, tags.length).forEach((x, i) => unGroup(group, tags[i], x));
        return k;
      }
      if (g === undefined) group.set(tag, k);
      else if (g instanceof Uint8Array) group.set(tag, [g, k]);
      else g.push(k);
      tags.push(tag);
    }
    return tags;
  }

  findLeaf(entryHash: Uint8Array): number {
    if (entryHash.length !== HASH_SIZE) return -1;
    return this.byHash.find(tagOf(entryHash), (leaf) => leaf < this.locSeg.length && this.tree.leafEquals(leaf, entryHash));
  }

  findKey(key: Uint8Array, tag = tagOf(key)): number {
    return this.byKey.find(tag, (leaf) => leaf < this.locSeg.length && this.readLeaf(leaf).keys.some((k) => equalBytes(k, key)));
  }

  readLeaf(leaf: number): Block['entries'][number] {
    const buf = this.writer.read(this.locSeg.get(leaf), this.locOff.get(leaf), this.locLen.get(leaf));
    return readEntry(new Reader(buf, 'entry'));
  }

  blockOfLeaf(leaf: number): number {
    let lo = 0;
    let hi = this.blocksMeta.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocksMeta[mid].firstLeaf <= leaf) lo = mid;
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
    return this.receipt(leaf, this.blocksMeta[b].sth, b);
  }

  receipt(leaf: number, sth: SignedTreeHead, blockHeight: number): Receipt {
    return {
      chain: this.o.name,
      entryHash: this.tree.leaf(leaf),
      leafIndex: leaf,
      blockHeight,
      inclusionProof: this.tree.inclusionProof(leaf, sth.treeSize),
      sth,
    };
  }

  /** The STH of the block that ends at `treeSize` (latest when undefined). */
  sthAt(treeSize?: number): { sth: SignedTreeHead; height: number } | undefined {
    if (!this.blocksMeta.length) return undefined;
    if (treeSize === undefined) return { sth: this.blocksMeta[this.height - 1].sth, height: this.height - 1 };
    const b = this.blockOfLeaf(Math.max(0, treeSize - 1));
    const m = this.blocksMeta[b];
    if (m.sth.treeSize !== treeSize) throw new BeepkitError('E_RANGE', `no tree head at size ${treeSize} (tree heads exist at block boundaries)`);
    return { sth: m.sth, height: b };
  }

  readBlock(height: number): Block {
    const m = this.blocksMeta[height];
    if (!m) throw new BeepkitError('E_RANGE', `no block ${height}`);
    return decodeBlock(this.writer.read(m.seg, m.offset, m.length)).block;
  }

  memoryBytes(): number {
    return this.tree.memoryBytes() + this.byHash.bytes() + this.byKey.bytes() + 3 * this.locSeg.buf.byteLength + this.blocksMeta.length * 400;
  }
}
