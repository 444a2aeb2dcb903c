/**
 * Incremental RFC 9162 Merkle tree that keeps every complete subtree hash in
 * memory, level by level, in flat byte arrays (about 64 bytes per leaf in
 * total). Appending costs O(1) amortised hashes; the hash of any leaf range,
 * hence any root, inclusion or consistency proof for any past size, costs
 * O(log n).
 */
import { BeepkitError } from '../errors.ts';
import { EMPTY_ROOT, HASH_SIZE, nodeHash, splitPoint } from './hash.ts';
import { consistencyProof, inclusionProof, type SubtreeHasher } from './proofs.ts';

class HashLevel {
  constructor(
    public buf: Uint8Array = new Uint8Array(HASH_SIZE * 64),
    public count = 0,
  ) {}
  push(h: Uint8Array): void {
    if ((this.count + 1) * HASH_SIZE > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, HASH_SIZE * 64));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf.set(h, this.count * HASH_SIZE);
    this.count++;
  }
  at(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
  truncate(n: number): void {
    this.count = Math.min(this.count, n);
  }
}

export class MerkleTree implements SubtreeHasher {
  private readonly levels: HashLevel[] = [new HashLevel()];

  /**
   * A tree over stored levels (as `levelState()` gave them; a persisted index).
   * The caller vouches for the hashes: nothing is recomputed.
   */
  static fromLevels(levels: { buf: Uint8Array; count: number }[]): MerkleTree {
    const t = new MerkleTree();
    if (!levels.length) return t;
    for (const l of levels) if (l.buf.length < l.count * HASH_SIZE) throw new BeepkitError('E_RANGE', 'level buffer shorter than its count');
    for (let i = 1; i < levels.length; i++) {
      if (levels[i].count !== Math.floor(levels[i - 1].count / 2))
        throw new BeepkitError('E_FORMAT', `level ${i} holds ${levels[i].count} hashes, expected ${Math.floor(levels[i - 1].count / 2)}`);
    }
    t.levels.splice(0, 1, ...levels.map((l) => new HashLevel(l.buf, l.count)));
    return t;
  }

  /** The level arrays (live views: copy or write them out before the next append). */
  levelState(): { buf: Uint8Array; count: number }[] {
    return this.levels.map((l) => ({ buf: l.buf, count: l.count }));
  }

  get size(): number {
    return this.levels[0].count;
  }

  /** Appends one leaf hash (already MTH({d}) = SHA-256(0x00 || d)); returns its index. */
  append(leafHash: Uint8Array): number {
    if (leafHash.length !== HASH_SIZE) throw new BeepkitError('E_RANGE', `leaf hash must be ${HASH_SIZE} bytes`);
    const index = this.size;
    this.levels[0].push(leafHash);
    let i = index;
    let lv = 0;
    while (i % 2 === 1) {
      const level = this.levels[lv];
      const parent = nodeHash(level.at(i - 1), level.at(i));
      lv++;
      if (this.levels.length === lv) this.levels.push(new HashLevel());
      this.levels[lv].push(parent);
      i = (i - 1) / 2;
    }
    return index;
  }

  /** A copy of the leaf hash at `index`. */
  leaf(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new BeepkitError('E_RANGE', `leaf ${index} outside 0..${this.size - 1}`);
    return this.levels[0].at(index).slice();
  }

  /** Compares the stored leaf hash at `index` with `h` without copying. */
  leafEquals(index: number, h: Uint8Array): boolean {
    const lv = this.levels[0];
    if (index < 0 || index >= lv.count || h.length !== HASH_SIZE) return false;
    const off = index * HASH_SIZE;
    for (let j = 0; j < HASH_SIZE; j++) if (lv.buf[off + j] !== h[j]) return false;
    return true;
  }

  subtreeHash(start: number, end: number): Uint8Array {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= this.size)) {
      throw new BeepkitError('E_RANGE', `subtree [${start}, ${end}) outside tree of size ${this.size}`);
    }
    const n = end - start;
    if ((n & (n - 1)) === 0 && n <= 0x40000000 && start % n === 0) {
      const lv = Math.log2(n);
      return this.levels[lv].at(start / n);
    }
    const k = splitPoint(n);
    return nodeHash(this.subtreeHash(start, start + k), this.subtreeHash(start + k, end));
  }

  root(size = this.size): Uint8Array {
    if (size === 0) return EMPTY_ROOT;
    return this.subtreeHash(0, size).slice();
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    return inclusionProof(this, index, size).map((h) => h.slice());
  }

  consistencyProof(size1: number, size2 = this.size): Uint8Array[] {
    return consistencyProof(this, size1, size2).map((h) => h.slice());
  }

  /** Drops leaves from `size` on (used when a pending append is abandoned). */
  truncate(size: number): void {
    let n = size;
    for (const level of this.levels) {
      level.truncate(n);
      n = Math.floor(n / 2);
    }
  }

  /** Bytes held by the level arrays (capacity, not just use). */
  memoryBytes(): number {
    return this.levels.reduce((a, l) => a + l.buf.length, 0);
  }
}
