/**
 * A small, allocation-free membership index of 16-byte keys (fingerprints,
 * RPIs), built for scanning huge packed arrays: open addressing on the first
 * 32-bit word (the keys are uniformly random hash/cipher outputs), a table
 * ≥ 4096 slots so almost every probe of a non-member hits an empty slot, and
 * a 4-word compare only on a hit. Scans read a Uint32Array view: no per-entry
 * allocation.
 */
import { BeepkitError } from '@beepkit/protocol/errors';

export const KEY_LEN = 16;

/** A Uint32Array view of a packed array of 16-byte entries (copies only when misaligned). */
export function words(packed: Uint8Array): Uint32Array {
  if (packed.length % KEY_LEN !== 0) throw new BeepkitError('E_RANGE', `packed array length ${packed.length} is not a multiple of 16`);
  if (packed.byteOffset % 4 === 0) return new Uint32Array(packed.buffer, packed.byteOffset, packed.length / 4);
  const copy = new Uint8Array(packed);
  return new Uint32Array(copy.buffer, 0, copy.length / 4);
}

export class Set16 {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly keys: Uint32Array;
  readonly size: number;

  constructor(keys: Uint8Array[]) {
    const packed = new Uint8Array(keys.length * KEY_LEN);
    keys.forEach((k, i) => {
      if (k.length !== KEY_LEN) throw new BeepkitError('E_RANGE', `key ${i} must be 16 bytes, got ${k.length}`);
      packed.set(k, i * KEY_LEN);
    });
    this.keys = words(packed);
    this.size = keys.length;
    let cap = 4096;
    while (cap < keys.length * 8) cap *= 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < keys.length; i++) {
      let s = this.keys[i * 4] & this.mask;
      while (this.slots[s] !== 0) s = (s + 1) & this.mask;
      this.slots[s] = i + 1;
    }
  }

  /** Index of the key at word offset `w` of `u32`, or -1. */
  find(u32: Uint32Array, w: number): number {
    const w0 = u32[w];
    let s = w0 & this.mask;
    let k: number;
    while ((k = this.slots[s]) !== 0) {
      const o = (k - 1) * 4;
      if (this.keys[o] === w0 && this.keys[o + 1] === u32[w + 1] && this.keys[o + 2] === u32[w + 2] && this.keys[o + 3] === u32[w + 3]) return k - 1;
      s = (s + 1) & this.mask;
    }
    return -1;
  }

  has(key: Uint8Array): boolean {
    return this.find(words(key.slice()), 0) >= 0;
  }

  /**
   * Calls `onHit(entry, key)` for every entry of the packed array (16-byte
   * entries) that is a member. Returns the number of hits.
   */
  scan(packed: Uint8Array | Uint32Array, onHit: (entry: number, key: number) => void): number {
    const u32 = packed instanceof Uint32Array ? packed : words(packed);
    const slots = this.slots;
    const mask = this.mask;
    const n = u32.length >>> 2;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if (slots[u32[i << 2] & mask] === 0) continue;
      const k = this.find(u32, i << 2);
      if (k >= 0) {
        hits++;
        onHit(i, k);
      }
    }
    return hits;
  }
}
