/**
 * Compact in-memory indexes. `U32Vec` is a growable Uint32Array. `TagTable`
 * is an open-addressing hash table of (32-bit tag, u32 value) pairs, 8 bytes
 * a slot at <= 70 % load (~11.5 B per entry): it maps a byte string to
 * candidate values by tag only, and the caller confirms each candidate against
 * the real bytes (leaf hashes in memory, keys on disk), so collisions cost a
 * check, never a wrong answer. Both are saved as they are in the chain's
 * persisted index (index-file.ts), which records `TAG_VERSION`.
 */
import { BeepkitError } from '@beepkit/protocol';
export class U32Vec {
  buf: Uint32Array;
  length = 0;
  constructor(initial = 1024) {
    this.buf = new Uint32Array(initial);
  }
  /** A vector over stored values (`buf` holds at least `length`). */
  static from(buf: Uint32Array, length: number): U32Vec {
    const v = new U32Vec(0);
    v.buf = buf.length ? buf : new Uint32Array(1024);
    v.length = length;
    return v;
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  get(i: number): number {
    return this.buf[i];
  }
}

/**
 * A 32-bit tag of bytes [start, end) of `b`: murmur3_32 (seed 0) over little-endian 32-bit words, then the
 * remaining bytes, the length and murmur3's finaliser; never 0. Persisted in the chain index: change it and bump
 * `TAG_VERSION` (an index of another version is rebuilt, never read). Version 1 was FNV-1a over words: a multiply
 * carries a word's differences only upwards, so keys that differ in the high bytes of their words (the ledger
 * bench's keys, an entry number as a big-endian float64) fell into few tags: 1 044 316 colliding inserts among
 * 8.4 M such keys against ~8 200 for random ones, each a record read from disk on append (a third of the fill's
 * CPU at 600 k entries). murmur3's rotations spread them; claim keys (SHA-256) were never affected.
 */
export const TAG_VERSION = 2;

export function tagOf(b: Uint8Array, start = 0, end = b.length): number {
  let h = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = Math.imul(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let s = 0; i < end; i++, s += 8) k |= b[i] << s;
  if ((end - start) & 3) {
    k = Math.imul(k, 0xcc9e2d51);
    h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  }
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0 || 1;
}

export class TagTable {
  private slots: Uint32Array;
  private mask: number;
  count = 0;
  constructor(initialPow2 = 1 << 12) {
    this.slots = new Uint32Array(initialPow2 * 2);
    this.mask = initialPow2 - 1;
  }
  /** A table over stored slots (as `slotArray()` gave them, with their count). */
  static from(slots: Uint32Array, count: number): TagTable {
    const cap = slots.length / 2;
    if (cap < 2 || (cap & (cap - 1)) !== 0 || count * 10 > cap * 7) throw new BeepkitError('E_FORMAT', `bad tag table: ${cap} slots, ${count} entries`);
    const t = new TagTable(2);
    t.slots = slots;
    t.mask = cap - 1;
    t.count = count;
    return t;
  }
  slotArray(): Uint32Array {
    return this.slots;
  }
  insert(tag: number, value: number): void {
    if ((this.count + 1) * 10 > (this.mask + 1) * 7) this.grow();
    this.put(this.slots, this.mask, tag, value);
    this.count++;
  }
  /** Calls `confirm` for each value stored under `tag`; returns the first confirmed value, or -1. */
  find(tag: number, confirm: (value: number) => boolean): number {
    const s = this.slots;
    let i = tag & this.mask;
    for (;;) {
      const t = s[i * 2];
      if (t === 0) return -1;
      if (t === tag && confirm(s[i * 2 + 1])) return s[i * 2 + 1];
      i = (i + 1) & this.mask;
    }
  }
  bytes(): number {
    return this.slots.byteLength;
  }
  private put(s: Uint32Array, mask: number, tag: number, value: number): void {
    let i = tag & mask;
    while (s[i * 2] !== 0) i = (i + 1) & mask;
    s[i * 2] = tag;
    s[i * 2 + 1] = value;
  }
  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    const next = new Uint32Array(cap * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.put(next, cap - 1, old[i], old[i + 1]);
    this.slots = next;
    this.mask = cap - 1;
  }
}
