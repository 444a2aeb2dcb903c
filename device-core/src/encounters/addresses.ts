/**
 * The encounter log's address side, compact: which encounter slot each Bluetooth address was last heard with
 * (a MAC address "aa:bb:cc:dd:ee:ff" kept as a number in an open-addressing table, any other string in a Map), and
 * the rotations noted (an address heard with a new RPI) in columns.
 */
import type { Rotation } from './types.ts';
import { NONE } from './store.ts';
import { toHex } from '@beepkit/protocol/bytes';

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const MAC_UPPER = /^[0-9A-F]{2}(?::[0-9A-F]{2}){5}$/;

/** A MAC address as a number (its upper-case spelling 2^48 apart, so distinct strings stay distinct), or NaN. */
export function macNumber(a: string): number {
  const upper = MAC_UPPER.test(a);
  if (!upper && !MAC.test(a)) return NaN;
  return parseInt(a.replaceAll(':', ''), 16) + (upper && /[A-F]/.test(a) ? 2 ** 48 : 0);
}

/** Address → encounter slot. */
export class AddressIndex {
  private keys = new Float64Array(16);
  /** slot per cell, NONE empty. */
  private slots = new Int32Array(16).fill(NONE);
  private used = 0;
  private readonly other = new Map<string, number>();

  get size(): number {
    return this.used + this.other.size;
  }

  /** Bytes held by the table (the Map of other spellings aside). */
  get bytes(): number {
    return this.keys.byteLength + this.slots.byteLength;
  }

  private cell(k: number): number {
    const mask = this.slots.length - 1;
    let h = Math.imul((k % 2 ** 32) ^ Math.imul(Math.floor(k / 2 ** 32), 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 16;
    for (let i = h & mask; ; i = (i + 1) & mask) if (this.slots[i] === NONE || this.keys[i] === k) return i;
  }

  get(address: string): number {
    const k = macNumber(address);
    if (Number.isNaN(k)) return this.other.get(address) ?? NONE;
    return this.slots[this.cell(k)];
  }

  set(address: string, slot: number): void {
    const k = macNumber(address);
    if (Number.isNaN(k)) {
      this.other.set(address, slot);
      return;
    }
    const i = this.cell(k);
    if (this.slots[i] === NONE) {
      this.keys[i] = k;
      this.used++;
    }
    this.slots[i] = slot;
    if (4 * this.used > 3 * this.slots.length) this.rebuild((s) => s);
  }

  /** Moves every entry through map(slot) (NONE: dropped), re-sizing the table for what is left. */
  rebuild(map: (slot: number) => number): void {
    const { keys, slots } = this;
    let size = 16;
    let live = 0;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== NONE && map(slots[i]) !== NONE) live++;
    while (size < 2 * live) size *= 2;
    this.keys = new Float64Array(size);
    this.slots = new Int32Array(size).fill(NONE);
    this.used = 0;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] === NONE) continue;
      const s = map(slots[i]);
      if (s === NONE) continue;
      const c = this.cell(keys[i]);
      this.keys[c] = keys[i];
      this.slots[c] = s;
      this.used++;
    }
    for (const [a, s] of this.other) {
      const m = map(s);
      if (m === NONE) this.other.delete(a);
      else this.other.set(a, m);
    }
  }

  clear(): void {
    this.rebuild(() => NONE);
  }
}

/** Rotations in columns: the address strings, both RPIs' bytes, the time. */
export class RotationList {
  private addresses: string[] = [];
  private rpis = new Uint8Array(0);
  private at = new Float64Array(0);

  get length(): number {
    return this.addresses.length;
  }

  /** Notes a rotation; the RPIs are 16 bytes at from[fromAt] and to[toAt]. */
  push(address: string, from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, at: number): void {
    const i = this.addresses.length;
    if (32 * (i + 1) > this.rpis.length) {
      const c = Math.max(16, Math.ceil(i * 1.5));
      const rpis = new Uint8Array(32 * c);
      rpis.set(this.rpis);
      const ats = new Float64Array(c);
      ats.set(this.at);
      this.rpis = rpis;
      this.at = ats;
    }
    this.addresses.push(address);
    this.rpis.set(from.subarray(fromAt, fromAt + 16), 32 * i);
    this.rpis.set(to.subarray(toAt, toAt + 16), 32 * i + 16);
    this.at[i] = at;
  }

  get(i: number): Rotation {
    const o = 32 * i;
    return { address: this.addresses[i], fromRpi: toHex(this.rpis.subarray(o, o + 16)), toRpi: toHex(this.rpis.subarray(o + 16, o + 32)), at: this.at[i] };
  }

  /** Keeps the rotations at or after `cutoff`, in order. */
  dropBefore(cutoff: number): void {
    let k = 0;
    for (let i = 0; i < this.addresses.length; i++) {
      if (this.at[i] < cutoff) continue;
      if (k !== i) {
        this.addresses[k] = this.addresses[i];
        this.rpis.copyWithin(32 * k, 32 * i, 32 * i + 32);
        this.at[k] = this.at[i];
      }
      k++;
    }
    this.addresses.length = k;
  }

  clear(): void {
    this.addresses.length = 0;
  }
}
