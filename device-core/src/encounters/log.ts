/**
 * Encounter log: one entry per Exposure Notification RPI (each RPI is its own
 * peer; peers rotate RPIs every 10–20 min), with first/last seen, sample count,
 * min/mean attenuation and exposure windows (≤ 30 min each) whose time is
 * credited to Corona-Warn-App-style attenuation buckets. Address rotations
 * (an address seen with a new RPI) are noted. Pure, time injected.
 *
 * Held compactly (store.ts, addresses.ts: typed columns, no object per encounter or window, ~tens of bytes an
 * encounter); `get`, `encounters()`, `exposureWindows()` and `rotations` build fresh objects on each call, so
 * changing what they return changes nothing in the log.
 */
import { BeepkitError } from '@beepkit/protocol';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { AddressIndex, RotationList } from './addresses.ts';
import { EncounterStore, NONE } from './store.ts';
import type { Rotation } from './types.ts';
import type { WireEncounter, WireWindow } from '@beepkit/protocol/carer';

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Parses `hex` (exactly 2·n hex digits, either case) into out[at, at + n); false if it is not that. */
function parseHexInto(hex: string, out: Uint8Array, at: number, n: number): boolean {
  if (hex.length !== 2 * n) return false;
  for (let i = 0; i < n; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

export const DAY_MS = 86_400_000;

export interface EncounterLogOptions {
  /** Retention window (default 14 days). */
  retentionMs?: number;
  /** Maximum exposure window length (default 30 min). */
  windowMs?: number;
  /** Longest gap between samples credited as exposure time (default 5 min, an EN scan period). */
  maxCreditMs?: number;
  /** Bucket edges in dB, ascending (default CWA: < 63, 63–73, 73–79, ≥ 79). */
  bucketEdges?: readonly number[];
}

/** An exposure window: the carer wire's window (protocol/carer), plus the close time the wire does not carry yet. */
export interface ExposureWindow extends WireWindow {
  /** Milliseconds credited while the proximity estimator said "close" (agent/src/proximity); absent in logs written before it. */
  msClose?: number;
}

/** An encounter: the carer wire's shape (rpi and aem lowercase hex, 16 and 4 bytes), with the agent's windows. */
export interface Encounter extends Omit<WireEncounter, 'windows'> {
  windows: ExposureWindow[];
}

export type { Rotation } from './types.ts';

export const CWA_BUCKET_EDGES: readonly number[] = [63, 73, 79];

/** Index of the attenuation bucket: 0 for < edges[0], …, edges.length for ≥ the last edge. */
export function bucketOf(att: number, edges: readonly number[] = CWA_BUCKET_EDGES): number {
  let i = 0;
  while (i < edges.length && att >= edges[i]) i++;
  return i;
}

export function meanAttenuation(e: { samples: number; sumAttenuation: number }): number {
  return e.samples ? e.sumAttenuation / e.samples : NaN;
}

export function durationMs(e: { firstSeen: number; lastSeen: number }): number {
  return e.lastSeen - e.firstSeen;
}

export class EncounterLog {
  readonly retentionMs: number;
  readonly windowMs: number;
  readonly maxCreditMs: number;
  readonly edges: readonly number[];
  /** @internal the columns (the codec reads and fills them) */
  store: EncounterStore;
  /** @internal bumped whenever encounters or rotations go other than by record() (purge, restore): the journal rewrites its file */
  generation = 0;
  private readonly lastSlotOfAddress = new AddressIndex();
  private readonly rotationList = new RotationList();
  private readonly rpiKey = new Uint8Array(16);
  private readonly aemKey = new Uint8Array(4);

  constructor(opts: EncounterLogOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 14 * DAY_MS;
    this.windowMs = opts.windowMs ?? 30 * 60_000;
    this.maxCreditMs = opts.maxCreditMs ?? 5 * 60_000;
    this.edges = opts.bucketEdges ?? CWA_BUCKET_EDGES;
    if (!(this.windowMs > 0 && this.windowMs <= 30 * 60_000)) throw new BeepkitError('E_CONFIG', 'encounters: windowMs must be in (0, 30 min]');
    if (this.edges.some((e, i) => i > 0 && e <= this.edges[i - 1])) throw new BeepkitError('E_CONFIG', 'encounters: bucket edges must ascend');
    this.store = new EncounterStore(this.edges.length + 1);
  }

  get size(): number {
    return this.store.n;
  }

  /** Bytes held by the typed columns (capacity included; the address strings of rotations aside). */
  get bytes(): number {
    return this.store.bytes + this.lastSlotOfAddress.bytes;
  }

  /** The rotations noted within retention, oldest first (a fresh copy). */
  get rotations(): Rotation[] {
    const out: Rotation[] = [];
    for (let i = 0; i < this.rotationList.length; i++) out.push(this.rotationList.get(i));
    return out;
  }

  /** The encounter of an RPI (hex, either case), built afresh; undefined if none. */
  get(rpi: string): Encounter | undefined {
    if (!parseHexInto(rpi, this.rpiKey, 0, 16)) return undefined;
    const s = this.store.find(this.rpiKey);
    return s === NONE ? undefined : this.encounterAt(s);
  }

  /** Records one (filtered) observation of an RPI (16 bytes) with its AEM (4 bytes), both hex. */
  record(rpi: string, aem: string, address: string, att: number, at: number, close = false): void {
    if (!parseHexInto(rpi, this.rpiKey, 0, 16)) throw new BeepkitError('E_FORMAT', 'encounters: rpi must be 16 bytes of hex');
    if (!parseHexInto(aem, this.aemKey, 0, 4)) throw new BeepkitError('E_FORMAT', 'encounters: aem must be 4 bytes of hex');
    this.recordBytes(this.rpiKey, this.aemKey, address, att, at, close);
  }

  /** As `record`, with the RPI and AEM as bytes (the scan pipeline's decoded advert). Allocates nothing but room for new RPIs and windows. */
  recordBytes(rpi: Uint8Array, aem: Uint8Array, address: string, att: number, at: number, close = false): void {
    const st = this.store;
    if (rpi.length !== 16 || aem.length !== 4) throw new BeepkitError('E_FORMAT', 'encounters: rpi must be 16 bytes and aem 4');
    let s = st.find(rpi);
    if (s === NONE) {
      s = st.add(rpi);
      st.firstSeen[s] = st.lastSeen[s] = at;
    }
    const prev = this.lastSlotOfAddress.get(address);
    if (prev !== s) {
      if (prev !== NONE) this.rotationList.push(address, st.rpi, 16 * prev, st.rpi, 16 * s, at);
      this.lastSlotOfAddress.set(address, s);
    }
    let w = st.tail[s];
    // time since the previous sample counts only while the peer stays in view
    const gap = w !== NONE ? at - st.wEnd[w] : Infinity;
    const credit = gap >= 0 && gap <= this.maxCreditMs ? gap : 0;
    if (w === NONE || at - st.wStart[w] >= this.windowMs || gap > this.maxCreditMs) w = st.addWindow(s, credit ? at - credit : at);
    const b = w * st.nb + bucketOf(att, this.edges);
    st.put('wMs', b, st.wMs[b] + credit);
    if (close) st.put('wClose', w, (Number.isNaN(st.wClose[w]) ? 0 : st.wClose[w]) + credit);
    st.wEnd[w] = at;
    st.wSamples[w]++;
    st.put('wSumAtt', w, st.wSumAtt[w] + att);
    if (att < st.wMinAtt[w]) st.put('wMinAtt', w, att);
    if (at > st.lastSeen[s]) st.lastSeen[s] = at;
    st.aem.set(aem, 4 * s);
    st.samples[s]++;
    st.put('sumAtt', s, st.sumAtt[s] + att);
    if (att < st.minAtt[s]) st.put('minAtt', s, att);
    st.dirty[s] = 1;
  }

  /** All encounters (fresh objects, in the order first recorded), optionally only those seen since `since`. */
  encounters(since = -Infinity): Encounter[] {
    const out: Encounter[] = [];
    for (let s = 0; s < this.store.n; s++) if (this.store.lastSeen[s] >= since) out.push(this.encounterAt(s));
    return out;
  }

  /** Every exposure window with its RPI, oldest first. */
  exposureWindows(): (ExposureWindow & { rpi: string })[] {
    const st = this.store;
    const out: (ExposureWindow & { rpi: string })[] = [];
    for (let s = 0; s < st.n; s++) {
      const rpi = toHex(st.rpi.subarray(16 * s, 16 * s + 16));
      for (let w = st.head[s]; w !== NONE; w = st.wNext[w]) out.push({ ...this.windowAt(w), rpi });
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** Drops everything last seen before now − retention. Returns how many encounters were purged. */
  purge(now: number): number {
    const cutoff = now - this.retentionMs;
    const st = this.store;
    const before = st.n;
    const rotations = this.rotationList.length;
    const map = st.compact((s) => st.lastSeen[s] >= cutoff);
    this.lastSlotOfAddress.rebuild((s) => (s < map.length ? map[s] : NONE));
    this.rotationList.dropBefore(cutoff);
    if (st.n !== before || this.rotationList.length !== rotations) this.generation++;
    return before - st.n;
  }

  /**
   * Replaces the encounters with `encounters` (a later one of an RPI replacing an earlier one) and the rotations
   * with `rotations`; which encounter each address was last heard with is forgotten.
   */
  restore(encounters: Encounter[], rotations: Rotation[]): void {
    const st = this.store;
    st.reset();
    this.generation++;
    this.lastSlotOfAddress.clear();
    this.rotationList.clear();
    for (const e of encounters) {
      const s = st.upsert(fromHex(e.rpi, 'rpi'));
      st.setEncounter(s, fromHex(e.aem, 'aem'), e.firstSeen, e.lastSeen, e.samples, e.minAttenuation, e.sumAttenuation);
      for (const w of e.windows) st.pushWindow(s, w.start, w.end, w.samples, w.minAttenuation, w.sumAttenuation, w.msByBucket, w.msClose ?? NaN);
    }
    for (const r of rotations) this.rotationList.push(r.address, fromHex(r.fromRpi, 'rpi'), 0, fromHex(r.toRpi, 'rpi'), 0, r.at);
  }

  /** As restore(other.encounters(), []) without building the objects: takes the other log's columns, leaving it empty. */
  restoreFrom(other: EncounterLog): void {
    if (other.store.nb !== this.store.nb) {
      this.restore(other.encounters(), []);
      return;
    }
    this.store = other.store;
    this.generation++;
    other.generation++;
    other.store = new EncounterStore(other.store.nb);
    other.lastSlotOfAddress.clear();
    other.rotationList.clear();
    this.lastSlotOfAddress.clear();
    this.rotationList.clear();
  }

  /** @internal used by the codec: the rotations as stored */
  rotationAt(i: number): Rotation {
    return this.rotationList.get(i);
  }

  /** @internal used by the codec */
  get rotationCount(): number {
    return this.rotationList.length;
  }

  /** @internal used by the codec */
  pushRotation(address: string, from: Uint8Array, to: Uint8Array, at: number): void {
    this.rotationList.push(address, from, 0, to, 0, at);
  }

  private windowAt(w: number): ExposureWindow {
    const st = this.store;
    const close = st.wClose[w];
    return {
      start: st.wStart[w],
      end: st.wEnd[w],
      samples: st.wSamples[w],
      minAttenuation: st.wMinAtt[w],
      sumAttenuation: st.wSumAtt[w],
      msByBucket: Array.from(st.wMs.subarray(w * st.nb, (w + 1) * st.nb)),
      ...(Number.isNaN(close) ? {} : { msClose: close }),
    };
  }

  private encounterAt(s: number): Encounter {
    const st = this.store;
    const windows: ExposureWindow[] = [];
    for (let w = st.head[s]; w !== NONE; w = st.wNext[w]) windows.push(this.windowAt(w));
    return {
      rpi: toHex(st.rpi.subarray(16 * s, 16 * s + 16)),
      aem: toHex(st.aem.subarray(4 * s, 4 * s + 4)),
      firstSeen: st.firstSeen[s],
      lastSeen: st.lastSeen[s],
      samples: st.samples[s],
      minAttenuation: st.minAtt[s],
      sumAttenuation: st.sumAtt[s],
      windows,
    };
  }
}
