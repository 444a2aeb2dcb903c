/**
 * A compact (32-bit tag → u32 value) multimap for the chain's byHash and byKey
 * lookups: a sorted run of (tag, value) pairs, 8 B per pair, found through a
 * directory on the tag's top bits (~4–8 pairs per bucket, ~0.6 B per pair),
 * plus a `TagTable` for the pairs added since the run was last rebuilt.
 *
 * The run and its directory are what the persisted index (index-file.ts)
 * stores, byte for byte: open reads them as they are, no insert, and the open
 * hash table the whole map used before (8 B per slot at 35–70 % load: 11–23 B
 * per pair, 537 MB of key slots at 1 M ledger entries of 28 keys) is only the
 * delta's. `compact()` merges the delta into the run (LSD radix sort of the
 * delta, then one merge pass): before each index write, and on its own when
 * the delta outgrows the run (amortised O(1) per insert, as a hash table's
 * doubling is).
 *
 * Like `TagTable`, lookups are by tag only: the caller confirms each candidate
 * against the real bytes, so a tag collision costs a check, never a wrong answer.
 */
import { BeepkitError } from '@beepkit/protocol';
import { TagTable } from './table.ts';

/** Directory bits for `n` pairs: ~4–8 pairs a bucket, at least 16 buckets. */
export function dirBitsFor(n: number): number {
  let bits = 4;
  while (bits < 28 && 2 ** (bits + 3) <= n) bits++;
  return bits;
}

/** Builds the directory of a run sorted by tag: dir[b] = first pair whose tag's top `bits` bits are >= b. */
function buildDir(run: Uint32Array, count: number, bits: number): Uint32Array {
  const buckets = 2 ** bits;
  const dir = new Uint32Array(buckets + 1);
  const shift = 32 - bits;
  let b = 0;
  for (let i = 0; i < count; i++) {
    const to = run[i * 2] >>> shift;
    while (b <= to) dir[b++] = i;
  }
  while (b <= buckets) dir[b++] = count;
  return dir;
}

/** The pairs of `t`, sorted by tag (LSD radix sort, two 16-bit passes; stable). */
function sortedPairs(t: TagTable): Uint32Array {
  const slots = t.slotArray();
  const n = t.count;
  let a = new Uint32Array(n * 2);
  let j = 0;
  for (let i = 0; i < slots.length; i += 2) {
    if (slots[i] !== 0) {
      a[j++] = slots[i];
      a[j++] = slots[i + 1];
    }
  }
  let b = new Uint32Array(n * 2);
  const counts = new Uint32Array(65536);
  for (const shift of [0, 16]) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(a[i * 2] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = counts[(a[i * 2] >>> shift) & 0xffff]++;
      b[k * 2] = a[i * 2];
      b[k * 2 + 1] = a[i * 2 + 1];
    }
    [a, b] = [b, a];
  }
  return a;
}

export class TagIndex {
  /** Sorted (tag, value) pairs, `runCount` of them (the buffer may be longer). */
  private run: Uint32Array;
  private runCount: number;
  private bits: number;
  private dir: Uint32Array;
  private delta = new TagTable();

  constructor() {
    this.run = new Uint32Array(0);
    this.runCount = 0;
    this.bits = 4;
    this.dir = new Uint32Array(17);
  }

  /**
   * A map over a stored run and its directory (as `state()` gave them). Checks
   * the shapes and the directory's ends; the index file's digest vouches for the rest.
   */
  static from(run: Uint32Array, runCount: number, bits: number, dir: Uint32Array): TagIndex {
    if (
      !Number.isInteger(bits) ||
      bits < 4 ||
      bits > 28 ||
      dir.length !== 2 ** bits + 1 ||
      run.length < runCount * 2 ||
      dir[0] !== 0 ||
      dir[dir.length - 1] !== runCount
    ) {
      throw new BeepkitError('E_FORMAT', `bad tag index: ${runCount} pairs, ${bits} directory bits, ${dir.length} directory entries`);
    }
    const t = new TagIndex();
    t.run = run;
    t.runCount = runCount;
    t.bits = bits;
    t.dir = dir;
    return t;
  }

  get count(): number {
    return this.runCount + this.delta.count;
  }

  /** Pairs not yet in the sorted run. */
  get pending(): number {
    return this.delta.count;
  }

  insert(tag: number, value: number): void {
    this.delta.insert(tag, value);
    if (this.delta.count > Math.max(1 << 20, this.runCount)) this.compact();
  }

  /** Calls `confirm` for each value stored under `tag`; returns the first confirmed value, or -1. */
  find(tag: number, confirm: (value: number) => boolean): number {
    if (this.delta.count) {
      const v = this.delta.find(tag, confirm);
      if (v >= 0) return v;
    }
    const run = this.run;
    const b = tag >>> (32 - this.bits);
    for (let i = this.dir[b], end = this.dir[b + 1]; i < end; i++) {
      const t = run[i * 2];
      if (t > tag) break;
      if (t === tag && confirm(run[i * 2 + 1])) return run[i * 2 + 1];
    }
    return -1;
  }

  /** Merges the delta into the sorted run (and rebuilds the directory). */
  compact(): void {
    if (!this.delta.count) return;
    const add = sortedPairs(this.delta);
    const m = add.length / 2;
    const n = this.runCount;
    const run = this.run;
    const out = new Uint32Array((n + m) * 2);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < n && j < m) {
      if (run[i * 2] <= add[j * 2]) {
        out[k++] = run[i * 2];
        out[k++] = run[i++ * 2 + 1];
      } else {
        out[k++] = add[j * 2];
        out[k++] = add[j++ * 2 + 1];
      }
    }
    if (i < n) out.set(run.subarray(i * 2, n * 2), k);
    else if (j < m) out.set(add.subarray(j * 2, m * 2), k);
    this.run = out;
    this.runCount = n + m;
    this.bits = dirBitsFor(this.runCount);
    this.dir = buildDir(out, this.runCount, this.bits);
    this.delta = new TagTable();
  }

  /** The run and directory to persist (call `compact()` first: the delta is not included). */
  state(): { run: Uint32Array; runCount: number; bits: number; dir: Uint32Array } {
    if (this.delta.count) throw new BeepkitError('E_STATE', 'tag index has pairs outside its run: compact() first');
    return { run: this.run.subarray(0, this.runCount * 2), runCount: this.runCount, bits: this.bits, dir: this.dir };
  }

  bytes(): number {
    return this.run.byteLength + this.dir.byteLength + this.delta.bytes();
  }
}
