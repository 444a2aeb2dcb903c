/**
 * In-memory spatiotemporal index of decrypted geodata (the retention window
 * only; never persisted). Columnar typed arrays, no per-record objects:
 *   record columns: pseudonym-day id, start, end, latE7, lonE7, level, venue id
 *   postings: (record, cell key) for every (grid cell × time bucket) the record
 *   touches, chained per key from an open-addressing hash table.
 * Cells are `cellM` metres (larger for coarse geodata levels: one cell class per
 * level), time buckets `bucketS` seconds; venue-only records are keyed by
 * (venue, hour). Pseudonym-days are interned (their records chained too).
 */
import { GRID_METRES } from '@beepkit/protocol/geodata';
import { toHex } from '@beepkit/protocol/bytes';

export const M_PER_DEG = (Math.PI * 6371008.8) / 180;
const VENUE_CLASS = 7;
const HOUR = 3600;

export interface IndexOptions {
  /** Fine cell size in metres (default 16). */
  cellM?: number;
  /** Time bucket in seconds (default 900). */
  bucketS?: number;
  initialRecords?: number;
}

export interface RecordInput {
  pid: number;
  start: number;
  end: number;
  latE7: number;
  lonE7: number;
  level: number;
  /** Interned venue id, or -1. */
  venue: number;
}

function grow<T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export class GeoIndex {
  readonly cellM: number;
  readonly bucketS: number;
  n = 0;
  pid: Int32Array;
  start: Uint32Array;
  end: Uint32Array;
  lat: Int32Array;
  lon: Int32Array;
  level: Uint8Array;
  venue: Int32Array;
  /** Next record of the same pseudonym-day (-1 ends). */
  pidNext: Int32Array;
  private seen: Uint32Array;
  private stamp = 0;
  // postings
  private pn = 0;
  private postRec: Int32Array;
  private postNext: Int32Array;
  // hash table of keys (class, cx, cy, tb) → head posting
  private hCap = 1 << 16;
  private hUsed = 0;
  private hCls = new Uint8Array(this.hCap);
  private hX = new Int32Array(this.hCap);
  private hY = new Int32Array(this.hCap);
  private hT = new Int32Array(this.hCap);
  private hHead = new Int32Array(this.hCap).fill(-1);
  // pseudonym-days and venues
  private pidOf = new Map<string, number>();
  pidPrefix: Uint8Array[] = [];
  pidDay: number[] = [];
  pidHead: Int32Array = new Int32Array(1024).fill(-1);
  private venueOf = new Map<string, number>();
  /** Level classes present (bit per level) — queries skip absent ones. */
  levels = 0;

  constructor(o: IndexOptions = {}) {
    this.cellM = o.cellM ?? 16;
    this.bucketS = o.bucketS ?? 900;
    const cap = Math.max(1024, o.initialRecords ?? 1024);
    this.pid = new Int32Array(cap);
    this.start = new Uint32Array(cap);
    this.end = new Uint32Array(cap);
    this.lat = new Int32Array(cap);
    this.lon = new Int32Array(cap);
    this.level = new Uint8Array(cap);
    this.venue = new Int32Array(cap);
    this.pidNext = new Int32Array(cap);
    this.seen = new Uint32Array(cap);
    this.postRec = new Int32Array(cap * 3);
    this.postNext = new Int32Array(cap * 3);
    // presized (keys ≥ records in practice) so a bulk build does not rehash over and over
    while (this.hCap < cap * 4) this.hCap *= 2;
    if (this.hCap > 1 << 16) this.resetTable();
  }

  private resetTable(): void {
    this.hCls = new Uint8Array(this.hCap);
    this.hX = new Int32Array(this.hCap);
    this.hY = new Int32Array(this.hCap);
    this.hT = new Int32Array(this.hCap);
    this.hHead = new Int32Array(this.hCap).fill(-1);
  }

  /** Interns a pseudonym-day (prefix, day) → id. */
  internPseudonym(prefix: Uint8Array, day: number): number {
    const k = toHex(prefix);
    let id = this.pidOf.get(k);
    if (id === undefined) {
      id = this.pidPrefix.length;
      this.pidOf.set(k, id);
      this.pidPrefix.push(prefix.slice());
      this.pidDay.push(day);
      if (id >= this.pidHead.length) this.pidHead = grow(this.pidHead, this.pidHead.length * 2).fill(-1, this.pidHead.length);
      this.pidHead[id] = -1;
    }
    return id;
  }

  pseudonymId(prefix: Uint8Array): number | undefined {
    return this.pidOf.get(toHex(prefix));
  }

  internVenue(id: Uint8Array): number {
    return this.internVenueAt(id, 0);
  }

  /** Interns the 8-byte venue id at `b[off]` (no slice). */
  internVenueAt(b: Uint8Array, off: number): number {
    const k = toHex(b.subarray(off, off + 8));
    let v = this.venueOf.get(k);
    if (v === undefined) this.venueOf.set(k, (v = this.venueOf.size));
    return v;
  }

  venueId(id: Uint8Array): number | undefined {
    return this.venueOf.get(toHex(id));
  }

  get pseudonyms(): number {
    return this.pidPrefix.length;
  }

  /** Cell size of a level class. */
  cellOf(level: number): number {
    return Math.max(this.cellM, GRID_METRES[level] ?? 0);
  }

  /** Row and column of a position in a level class's grid (columns scaled by the row's cosine). */
  rowOf(latE7: number, c: number): number {
    return Math.floor(((latE7 / 1e7 + 90) * M_PER_DEG) / c);
  }

  colOf(lonE7: number, row: number, c: number): number {
    const rowLat = ((row + 0.5) * c) / M_PER_DEG - 90;
    const cos = Math.max(Math.cos((rowLat * Math.PI) / 180), 1e-6);
    return Math.floor(((lonE7 / 1e7 + 180) * M_PER_DEG * cos) / c);
  }

  add(r: RecordInput): number {
    return this.addRecord(r.pid, r.start, r.end, r.latE7, r.lonE7, r.level, r.venue);
  }

  /** `add` without the record object (the solver's hot path). */
  addRecord(pid: number, start: number, end: number, latE7: number, lonE7: number, level: number, venue: number): number {
    const i = this.n;
    if (i === this.pid.length) this.growRecords(i * 2);
    this.pid[i] = pid;
    this.start[i] = start;
    this.end[i] = end;
    this.lat[i] = latE7;
    this.lon[i] = lonE7;
    this.level[i] = level;
    this.venue[i] = venue;
    this.pidNext[i] = this.pidHead[pid];
    this.pidHead[pid] = i;
    this.n++;
    if (level !== 5) {
      const c = this.cellOf(level);
      const row = this.rowOf(latE7, c);
      const col = this.colOf(lonE7, row, c);
      for (let b = Math.floor(start / this.bucketS), e = Math.floor(end / this.bucketS); b <= e; b++) this.post(level, col, row, b, i);
      this.levels |= 1 << level;
    }
    if (venue >= 0 || level === 5) {
      for (let h = Math.floor(start / HOUR), e = Math.floor(end / HOUR); h <= e; h++) this.post(VENUE_CLASS, venue, 0, h, i);
      this.levels |= 1 << VENUE_CLASS;
    }
    return i;
  }

  private growRecords(cap: number): void {
    this.pid = grow(this.pid, cap);
    this.start = grow(this.start, cap);
    this.end = grow(this.end, cap);
    this.lat = grow(this.lat, cap);
    this.lon = grow(this.lon, cap);
    this.level = grow(this.level, cap);
    this.venue = grow(this.venue, cap);
    this.pidNext = grow(this.pidNext, cap);
    this.seen = grow(this.seen, cap);
  }

  private slot(cls: number, x: number, y: number, t: number): number {
    let h = (Math.imul(x, 0x9e3779b1) ^ Math.imul(y, 0x85ebca77) ^ Math.imul(t, 0xc2b2ae3d) ^ cls) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    const mask = this.hCap - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      if (this.hHead[s] === -1) return s;
      if (this.hX[s] === x && this.hY[s] === y && this.hT[s] === t && this.hCls[s] === cls) return s;
    }
  }

  private post(cls: number, x: number, y: number, t: number, rec: number): void {
    if ((this.hUsed + 1) * 2 > this.hCap) this.rehash();
    const s = this.slot(cls, x, y, t);
    if (this.hHead[s] === -1) {
      this.hUsed++;
      this.hCls[s] = cls;
      this.hX[s] = x;
      this.hY[s] = y;
      this.hT[s] = t;
    }
    if (this.pn === this.postRec.length) {
      this.postRec = grow(this.postRec, this.pn * 2);
      this.postNext = grow(this.postNext, this.pn * 2);
    }
    this.postRec[this.pn] = rec;
    this.postNext[this.pn] = this.hHead[s];
    this.hHead[s] = this.pn++;
  }

  private rehash(): void {
    const old = { cls: this.hCls, x: this.hX, y: this.hY, t: this.hT, head: this.hHead, cap: this.hCap };
    this.hCap *= 2;
    this.resetTable();
    for (let s = 0; s < old.cap; s++) {
      if (old.head[s] === -1) continue;
      const d = this.slot(old.cls[s], old.x[s], old.y[s], old.t[s]);
      this.hCls[d] = old.cls[s];
      this.hX[d] = old.x[s];
      this.hY[d] = old.y[s];
      this.hT[d] = old.t[s];
      this.hHead[d] = old.head[s];
    }
  }

  private visitKey(cls: number, x: number, y: number, t: number, fn: (rec: number) => void): void {
    const s = this.slot(cls, x, y, t);
    for (let p = this.hHead[s]; p !== -1; p = this.postNext[p]) {
      const rec = this.postRec[p];
      if (this.seen[rec] === this.stamp) continue;
      this.seen[rec] = this.stamp;
      fn(rec);
    }
  }

  /**
   * Calls `fn` once per record whose cell lies within `radiusM` (plus the
   * record class's half cell) of the position and whose time window touches
   * [from, to]. Candidates only: the caller measures the exact distance.
   */
  near(latE7: number, lonE7: number, radiusM: number, from: number, to: number, fn: (rec: number) => void): void {
    this.stamp = (this.stamp + 1) >>> 0 || 1;
    if (this.stamp === 1) this.seen.fill(0);
    const y = (latE7 / 1e7 + 90) * M_PER_DEG;
    for (let cls = 0; cls <= 4; cls++) {
      if (!(this.levels & (1 << cls))) continue;
      const c = this.cellOf(cls);
      const r = radiusM + (GRID_METRES[cls] ?? 0);
      for (let row = Math.floor((y - r) / c), rEnd = Math.floor((y + r) / c); row <= rEnd; row++) {
        const rowLat = ((row + 0.5) * c) / M_PER_DEG - 90;
        const x = (lonE7 / 1e7 + 180) * M_PER_DEG * Math.max(Math.cos((rowLat * Math.PI) / 180), 1e-6);
        for (let col = Math.floor((x - r) / c), cEnd = Math.floor((x + r) / c); col <= cEnd; col++) {
          for (let b = Math.floor(from / this.bucketS), bEnd = Math.floor(to / this.bucketS); b <= bEnd; b++) this.visitKey(cls, col, row, b, fn);
        }
      }
    }
  }

  /** Records at `venue` in the hours touching [from, to]. */
  atVenue(venue: number, from: number, to: number, fn: (rec: number) => void): void {
    this.stamp = (this.stamp + 1) >>> 0 || 1;
    if (this.stamp === 1) this.seen.fill(0);
    for (let h = Math.floor(from / HOUR), e = Math.floor(to / HOUR); h <= e; h++) this.visitKey(VENUE_CLASS, venue, 0, h, fn);
  }

  /** Record indices of a pseudonym-day. */
  recordsOf(pid: number): number[] {
    const out: number[] = [];
    for (let i = this.pidHead[pid]; i !== -1; i = this.pidNext[i]) out.push(i);
    return out;
  }

  /** Approximate bytes held by the typed arrays. */
  get bytes(): number {
    return this.pid.length * 33 + this.postRec.length * 8 + this.hCap * 17;
  }

  /** A new index holding only records ending at or after `cutoff` (retention). */
  compact(cutoff: number): GeoIndex {
    const next = new GeoIndex({ cellM: this.cellM, bucketS: this.bucketS, initialRecords: this.n });
    const pidMap = new Map<number, number>();
    for (let i = 0; i < this.n; i++) {
      if (this.end[i] < cutoff) continue;
      let p = pidMap.get(this.pid[i]);
      if (p === undefined) pidMap.set(this.pid[i], (p = next.internPseudonym(this.pidPrefix[this.pid[i]], this.pidDay[this.pid[i]])));
      next.add({ pid: p, start: this.start[i], end: this.end[i], latE7: this.lat[i], lonE7: this.lon[i], level: this.level[i], venue: this.venue[i] });
    }
    next.venueOf = this.venueOf;
    return next;
  }
}
