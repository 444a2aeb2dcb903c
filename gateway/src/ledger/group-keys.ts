/**
 * The keys of one commit group (chain.ts `commit`): a key must be new to the
 * chain and to the group. One open-addressing table of (32-bit tag, key number)
 * pairs in a Uint32Array, reused by every commit of the chain (one commit at a
 * time), instead of a `Map` of key arrays per commit: no allocation per key.
 * Keys are added in order and removed only from the end (`truncate`: an entry
 * with a taken key gives back the keys it added); with linear probing, removing
 * the last-added pair first always leaves the table as it was before that pair,
 * so no tombstones. The tags stay in insertion order for the block's index inserts.
 */
import { equalBytes } from '@beepkit/protocol';

export class GroupKeys {
  /** Pairs (tag, key number); tag 0 is an empty slot (`tagOf` is never 0). */
  #slots: Uint32Array = new Uint32Array(2 * 8192);
  #mask = 8191;
  #keys: Uint8Array[] = [];
  /** Per key number: its tag and its slot. */
  #tags: Uint32Array = new Uint32Array(4096);
  #at: Uint32Array = new Uint32Array(4096);
  count = 0;

  /** Adds `k` (tagged `tag`) unless the group holds it already (then false). */
  add(tag: number, k: Uint8Array): boolean {
    if (this.count * 2 >= this.#mask) this.#grow();
    const s = this.#slots;
    const mask = this.#mask;
    let i = tag & mask;
    for (;;) {
      const t = s[i * 2];
      if (t === 0) break;
      if (t === tag && equalBytes(this.#keys[s[i * 2 + 1]], k)) return false;
      i = (i + 1) & mask;
    }
    const n = this.count++;
    s[i * 2] = tag;
    s[i * 2 + 1] = n;
    if (n === this.#tags.length) {
      this.#tags = grown(this.#tags);
      this.#at = grown(this.#at);
    }
    this.#tags[n] = tag;
    this.#at[n] = i;
    this.#keys.push(k);
    return true;
  }

  /** The tag of key number `n` (in the order added). */
  tag(n: number): number {
    return this.#tags[n];
  }

  /** Removes the keys added after the first `n`, the last added first. */
  truncate(n: number): void {
    while (this.count > n) this.#slots[this.#at[--this.count] * 2] = 0;
    this.#keys.length = n;
  }

  /** Empties the group (clears only the slots in use; drops the key references). */
  clear(): void {
    this.truncate(0);
  }

  #grow(): void {
    const cap = (this.#mask + 1) * 2;
    const s = new Uint32Array(cap * 2);
    const mask = cap - 1;
    // re-adding in the original order keeps "remove the last added first" exact
    for (let n = 0; n < this.count; n++) {
      let i = this.#tags[n] & mask;
      while (s[i * 2] !== 0) i = (i + 1) & mask;
      s[i * 2] = this.#tags[n];
      s[i * 2 + 1] = n;
      this.#at[n] = i;
    }
    this.#slots = s;
    this.#mask = mask;
  }
}

function grown(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}
