/**
 * The encounter log's compact storage: one slot per RPI in typed columns (RPI and AEM as bytes, times and
 * attenuations as float64, counts as uint32), exposure windows in a second set of columns chained per encounter
 * (head, tail, next), and an open-addressing hash from the RPI's bytes to its slot. No JS object per encounter or
 * window: the log materialises them only when asked. Purging compacts both sets in place, keeping the order.
 */
import { BeepkitError } from '@beepkit/protocol';

type Column = Float64Array | Float32Array | Uint32Array | Int32Array | Uint8Array;
type Real = Float32Array | Float64Array;
/** The columns kept in float32 while every value in them is one (attenuations and credited times usually are), float64 from the first that is not. */
type Narrow = 'minAtt' | 'sumAtt' | 'wMinAtt' | 'wSumAtt' | 'wMs' | 'wClose';

/** A copy of `a` with room for `n` elements (the old contents first). */
function grown<T extends Column>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

const nextCap = (cap: number, need: number): number => Math.max(need, Math.ceil(cap * 1.5), 64);

export const NONE = -1;

export class EncounterStore {
  /** Buckets per window (bucket edges + 1). */
  readonly nb: number;
  /** Encounters in use: slots [0, n). */
  n = 0;
  private cap = 0;
  rpi = new Uint8Array(0);
  aem = new Uint8Array(0);
  firstSeen = new Float64Array(0);
  lastSeen = new Float64Array(0);
  minAtt: Real = new Float32Array(0);
  sumAtt: Real = new Float32Array(0);
  samples = new Uint32Array(0);
  head = new Int32Array(0);
  tail = new Int32Array(0);
  /** 1: changed since the last save (the journal appends these). */
  dirty = new Uint8Array(0);
  /** Windows in use: [0, wn). */
  wn = 0;
  private wcap = 0;
  wStart = new Float64Array(0);
  wEnd = new Float64Array(0);
  wMinAtt: Real = new Float32Array(0);
  wSumAtt: Real = new Float32Array(0);
  wSamples = new Uint32Array(0);
  /** nb per window. */
  wMs: Real = new Float32Array(0);
  /** NaN: absent (a window restored from a log written before the close time). */
  wClose: Real = new Float32Array(0);
  wNext = new Int32Array(0);
  /** slot + 1 per cell, 0 empty; linear probing; at most 3/4 full, half full after a rebuild. */
  private table = new Int32Array(16);

  constructor(nb: number) {
    this.nb = nb;
  }

  /** Sets column[i] to v, the column widened to float64 first if float32 does not hold v exactly: reads give what was set. */
  put(k: Narrow, i: number, v: number): void {
    const a = this[k];
    a[i] = v;
    if (a[i] !== v && v === v) {
      const b = new Float64Array(a.length);
      b.set(a);
      b[i] = v;
      this[k] = b;
    }
  }

  /** Bytes held by the columns (their capacity, not only what is in use). */
  get bytes(): number {
    const cols = [this.rpi, this.aem, this.firstSeen, this.lastSeen, this.minAtt, this.sumAtt, this.samples, this.head, this.tail, this.dirty];
    const wcols = [this.wStart, this.wEnd, this.wMinAtt, this.wSumAtt, this.wSamples, this.wMs, this.wClose, this.wNext];
    return [...cols, ...wcols, this.table].reduce((s, c) => s + c.byteLength, 0);
  }

  /** Encounter and window capacity (slots allocated). */
  get capacity(): { encounters: number; windows: number } {
    return { encounters: this.cap, windows: this.wcap };
  }

  private hashAt(bytes: Uint8Array, at: number): number {
    let h = 0;
    for (let i = 0; i < 16; i += 4)
      h ^= Math.imul(bytes[at + i] | (bytes[at + i + 1] << 8) | (bytes[at + i + 2] << 16) | (bytes[at + i + 3] << 24), 0x9e3779b1) + i;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return (h ^ (h >>> 13)) & (this.table.length - 1);
  }

  private same(slot: number, key: Uint8Array, at: number): boolean {
    const o = slot * 16;
    for (let i = 0; i < 16; i++) if (this.rpi[o + i] !== key[at + i]) return false;
    return true;
  }

  /** The slot holding the RPI in key[at, at + 16), or NONE. */
  find(key: Uint8Array, at = 0): number {
    if (key.length < at + 16) throw new BeepkitError('E_FORMAT', 'encounter log: an rpi is 16 bytes');
    const mask = this.table.length - 1;
    for (let i = this.hashAt(key, at); ; i = (i + 1) & mask) {
      const v = this.table[i];
      if (v === 0) return NONE;
      if (this.same(v - 1, key, at)) return v - 1;
    }
  }

  private index(slot: number): void {
    const mask = this.table.length - 1;
    let i = this.hashAt(this.rpi, slot * 16);
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
  }

  /** Rebuilds the hash for slots [0, n), sized for `room` entries. */
  private reindex(room: number): void {
    let size = 16;
    while (size < 2 * room) size *= 2;
    if (size !== this.table.length) this.table = new Int32Array(size);
    else this.table.fill(0);
    for (let s = 0; s < this.n; s++) this.index(s);
  }

  /** A new encounter for the RPI in key[at, at + 16) (not already held), its other fields zero, no windows. */
  add(key: Uint8Array, at = 0): number {
    if (this.n === this.cap) {
      const c = nextCap(this.cap, this.n + 1);
      this.rpi = grown(this.rpi, 16 * c);
      this.aem = grown(this.aem, 4 * c);
      this.firstSeen = grown(this.firstSeen, c);
      this.lastSeen = grown(this.lastSeen, c);
      this.minAtt = grown(this.minAtt, c);
      this.sumAtt = grown(this.sumAtt, c);
      this.samples = grown(this.samples, c);
      this.head = grown(this.head, c);
      this.tail = grown(this.tail, c);
      this.dirty = grown(this.dirty, c);
      this.cap = c;
    }
    const s = this.n++;
    this.rpi.set(key.subarray(at, at + 16), s * 16);
    this.clear(s);
    if (4 * this.n > 3 * this.table.length) this.reindex(this.n);
    else this.index(s);
    return s;
  }

  /** Resets an encounter's fields and drops its windows (they are reclaimed at the next compaction). */
  clear(s: number): void {
    this.aem.fill(0, 4 * s, 4 * s + 4);
    this.firstSeen[s] = this.lastSeen[s] = this.sumAtt[s] = 0;
    this.minAtt[s] = Infinity;
    this.samples[s] = 0;
    this.head[s] = this.tail[s] = NONE;
    this.dirty[s] = 1;
  }

  /** Appends a window to encounter `s`: its fields zero but start, min attenuation ∞, close time 0. */
  addWindow(s: number, start: number): number {
    if (this.wn === this.wcap) {
      const c = nextCap(this.wcap, this.wn + 1);
      this.wStart = grown(this.wStart, c);
      this.wEnd = grown(this.wEnd, c);
      this.wMinAtt = grown(this.wMinAtt, c);
      this.wSumAtt = grown(this.wSumAtt, c);
      this.wSamples = grown(this.wSamples, c);
      this.wMs = grown(this.wMs, this.nb * c);
      this.wClose = grown(this.wClose, c);
      this.wNext = grown(this.wNext, c);
      this.wcap = c;
    }
    const w = this.wn++;
    this.wStart[w] = this.wEnd[w] = start;
    this.wMinAtt[w] = Infinity;
    this.wSumAtt[w] = 0;
    this.wSamples[w] = 0;
    this.wMs.fill(0, w * this.nb, (w + 1) * this.nb);
    this.wClose[w] = 0;
    this.wNext[w] = NONE;
    if (this.tail[s] === NONE) this.head[s] = w;
    else this.wNext[this.tail[s]] = w;
    this.tail[s] = w;
    return w;
  }

  /** The slot of the RPI in key[0, 16), cleared (windows dropped) if already held, else new. */
  upsert(key: Uint8Array): number {
    const s = this.find(key);
    if (s === NONE) return this.add(key);
    this.clear(s);
    return s;
  }

  setEncounter(s: number, aem: Uint8Array, firstSeen: number, lastSeen: number, samples: number, minAtt: number, sumAtt: number): void {
    if (aem.length !== 4) throw new BeepkitError('E_FORMAT', 'encounter log: aem must be 4 bytes');
    this.aem.set(aem, 4 * s);
    this.firstSeen[s] = firstSeen;
    this.lastSeen[s] = lastSeen;
    this.samples[s] = samples;
    this.put('minAtt', s, minAtt);
    this.put('sumAtt', s, sumAtt);
  }

  /** Appends a whole window to encounter `s`; close NaN when absent. */
  pushWindow(s: number, start: number, end: number, samples: number, minAtt: number, sumAtt: number, ms: ArrayLike<number>, close: number): void {
    this.checkBuckets(ms.length);
    const w = this.addWindow(s, start);
    this.wEnd[w] = end;
    this.wSamples[w] = samples;
    this.put('wMinAtt', w, minAtt);
    this.put('wSumAtt', w, sumAtt);
    for (let b = 0; b < this.nb; b++) this.put('wMs', w * this.nb + b, ms[b]);
    this.put('wClose', w, close);
  }

  windowCount(s: number): number {
    let k = 0;
    for (let w = this.head[s]; w !== NONE; w = this.wNext[w]) k++;
    return k;
  }

  /**
   * Keeps the encounters for which keep(slot) holds and their windows, moved down in order (slot and window
   * numbers change); returns the old → new slot map (NONE for a dropped one). Capacity is kept for reuse.
   */
  compact(keep: (slot: number) => boolean): Int32Array {
    const slotMap = new Int32Array(this.n).fill(NONE);
    const winMap = new Int32Array(this.wn).fill(NONE);
    let k = 0;
    for (let s = 0; s < this.n; s++) {
      if (!keep(s)) continue;
      slotMap[s] = k++;
      for (let w = this.head[s]; w !== NONE; w = this.wNext[w]) winMap[w] = 0;
    }
    let wk = 0;
    for (let w = 0; w < this.wn; w++) {
      if (winMap[w] === NONE) continue;
      winMap[w] = wk;
      if (wk !== w) {
        this.wStart[wk] = this.wStart[w];
        this.wEnd[wk] = this.wEnd[w];
        this.wMinAtt[wk] = this.wMinAtt[w];
        this.wSumAtt[wk] = this.wSumAtt[w];
        this.wSamples[wk] = this.wSamples[w];
        this.wMs.copyWithin(wk * this.nb, w * this.nb, (w + 1) * this.nb);
        this.wClose[wk] = this.wClose[w];
        this.wNext[wk] = this.wNext[w];
      }
      wk++;
    }
    for (let w = 0; w < wk; w++) if (this.wNext[w] !== NONE) this.wNext[w] = winMap[this.wNext[w]];
    this.wn = wk;
    for (let s = 0; s < this.n; s++) {
      const d = slotMap[s];
      if (d === NONE) continue;
      if (d !== s) {
        this.rpi.copyWithin(16 * d, 16 * s, 16 * s + 16);
        this.aem.copyWithin(4 * d, 4 * s, 4 * s + 4);
        this.firstSeen[d] = this.firstSeen[s];
        this.lastSeen[d] = this.lastSeen[s];
        this.minAtt[d] = this.minAtt[s];
        this.sumAtt[d] = this.sumAtt[s];
        this.samples[d] = this.samples[s];
        this.dirty[d] = this.dirty[s];
      }
      this.head[d] = this.head[s] === NONE ? NONE : winMap[this.head[s]];
      this.tail[d] = this.tail[s] === NONE ? NONE : winMap[this.tail[s]];
    }
    this.n = k;
    this.reindex(this.n);
    return slotMap;
  }

  /** Drops everything, keeping the capacity. */
  reset(): void {
    this.n = this.wn = 0;
    this.table.fill(0);
  }

  /** Throws E_FORMAT unless a window's bucket count is this store's. */
  checkBuckets(nb: number): void {
    if (nb !== this.nb) throw new BeepkitError('E_FORMAT', `encounter log: windows of ${nb} buckets, the log has ${this.nb}`);
  }
}
