/**
 * The wearable's EN encounters on the carer channel (pure codecs).
 *
 * One encounter (an RPI the wearable heard; WireEncounter, the shape of device-core/src/encounters Encounter):
 *   16 rpi | 4 aem | u64 firstSeen | u64 lastSeen | u32 samples | f64 minAttenuation | f64 sumAttenuation
 *   | u8 n × window (u64 start | u64 end | u32 samples | f64 minAttenuation | f64 sumAttenuation | u8 m × u32 ms per bucket)
 * Times are Unix ms. At most MAX_WIRE_WINDOWS windows travel per encounter (the newest; an RPI
 * rotates every 10–20 min, so a real one has one or two) and MAX_WIRE_BUCKETS buckets per window.
 *
 * Identity: an encounter grows while its RPI is still heard, so its id is a hash of its content
 * (encounterId: rpi, lastSeen, samples): a grown copy has a new id and supersedes the older one
 * (the carer keeps one encounter per RPI, the newest lastSeen winning), and a copy sent twice has
 * the same id (the carer acknowledges it again and changes nothing).
 */
import { createHash } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, fromHex, toHex } from '../bytes.ts';

/** One exposure window of an encounter as it travels (times Unix ms, ms credited per attenuation bucket). */
export interface WireWindow {
  start: number;
  end: number;
  samples: number;
  minAttenuation: number;
  sumAttenuation: number;
  msByBucket: number[];
}

/** An encounter as it travels (rpi and aem lowercase hex); the agent's Encounter (device-core/src/encounters/log.ts) extends it. */
export interface WireEncounter {
  rpi: string;
  aem: string;
  firstSeen: number;
  lastSeen: number;
  samples: number;
  minAttenuation: number;
  sumAttenuation: number;
  windows: WireWindow[];
}

export const MAX_WIRE_WINDOWS = 64;
export const MAX_WIRE_BUCKETS = 8;
/** Bound of one `encounters` inner message's payload (the reassembler takes 64 KiB). */
export const MAX_ENCOUNTER_BATCH_BYTES = 8 * 1024;
const ID_DOMAIN = new TextEncoder().encode('beepkit/v1/carer/encounter');

/** The stable id of an encounter's content (32 bytes): SHA-256(domain | rpi | u64 lastSeen | u32 samples). */
export function encounterId(e: Pick<WireEncounter, 'rpi' | 'lastSeen' | 'samples'>): Uint8Array {
  const w = new Writer(64).bytes(ID_DOMAIN).bytes(fromHex(e.rpi, 'rpi'), 16).u64(e.lastSeen).u32(e.samples);
  return new Uint8Array(createHash('sha256').update(w.finish()).digest());
}

/** The encounter as it travels: at most MAX_WIRE_WINDOWS windows (the newest). */
export function wireEncounter<E extends WireEncounter>(e: E): E {
  return e.windows.length <= MAX_WIRE_WINDOWS ? e : { ...e, windows: e.windows.slice(-MAX_WIRE_WINDOWS) };
}

export function writeEncounter(w: Writer, e: WireEncounter): Writer {
  const x = wireEncounter(e);
  w.bytes(fromHex(x.rpi, 'rpi'), 16)
    .bytes(fromHex(x.aem, 'aem'), 4)
    .u64(x.firstSeen)
    .u64(x.lastSeen)
    .u32(x.samples)
    .f64(x.minAttenuation)
    .f64(x.sumAttenuation);
  w.u8(x.windows.length);
  for (const v of x.windows) {
    if (v.msByBucket.length > MAX_WIRE_BUCKETS)
      throw new BeepkitError('E_RANGE', `encounter window: ${v.msByBucket.length} buckets (at most ${MAX_WIRE_BUCKETS})`);
    w.u64(v.start).u64(v.end).u32(v.samples).f64(v.minAttenuation).f64(v.sumAttenuation).u8(v.msByBucket.length);
    for (const ms of v.msByBucket) w.u32(Math.min(0xffffffff, Math.max(0, Math.round(ms))));
  }
  return w;
}

function finite(r: Reader, field: string): number {
  const v = r.f64(field);
  if (!Number.isFinite(v)) throw new BeepkitError('E_FORMAT', `encounter: ${field} is not a finite number`);
  return v;
}

/** Reads one encounter; only BeepkitError escapes (E_TRUNCATED, E_FORMAT, E_RANGE). */
export function readEncounter(r: Reader): WireEncounter {
  const rpi = toHex(r.bytes(16, 'rpi'));
  const aem = toHex(r.bytes(4, 'aem'));
  const firstSeen = r.u64('firstSeen');
  const lastSeen = r.u64('lastSeen');
  const samples = r.u32('samples');
  const minAttenuation = finite(r, 'minAttenuation');
  const sumAttenuation = finite(r, 'sumAttenuation');
  if (lastSeen < firstSeen) throw new BeepkitError('E_FORMAT', 'encounter: lastSeen before firstSeen');
  const n = r.u8('windows');
  if (n > MAX_WIRE_WINDOWS) throw new BeepkitError('E_RANGE', `encounter: ${n} windows (at most ${MAX_WIRE_WINDOWS})`);
  const windows: WireWindow[] = [];
  for (let i = 0; i < n; i++) {
    const start = r.u64('window start');
    const end = r.u64('window end');
    if (end < start) throw new BeepkitError('E_FORMAT', 'encounter window: end before start');
    const ws = r.u32('window samples');
    const wmin = finite(r, 'window minAttenuation');
    const wsum = finite(r, 'window sumAttenuation');
    const m = r.u8('buckets');
    if (m > MAX_WIRE_BUCKETS) throw new BeepkitError('E_RANGE', `encounter window: ${m} buckets (at most ${MAX_WIRE_BUCKETS})`);
    const msByBucket: number[] = [];
    for (let b = 0; b < m; b++) msByBucket.push(r.u32('ms'));
    windows.push({ start, end, samples: ws, minAttenuation: wmin, sumAttenuation: wsum, msByBucket });
  }
  return { rpi, aem, firstSeen, lastSeen, samples, minAttenuation, sumAttenuation, windows };
}

/** Bytes writeEncounter takes for `e` (57 fixed, 37 per window sent plus 4 per bucket), without encoding it. */
export function encodedEncounterSize(e: WireEncounter): number {
  return wireEncounter(e).windows.reduce((n, v) => n + 37 + 4 * v.msByBucket.length, 57);
}

/**
 * Splits encounters into batches whose encoded size stays within `maxBytes` (one `encounters`
 * message each; an encounter alone always fits: MAX_WIRE_WINDOWS bounds it well below the default).
 */
export function batchEncounters<E extends WireEncounter>(list: E[], maxBytes = MAX_ENCOUNTER_BATCH_BYTES): E[][] {
  const out: E[][] = [];
  let cur: E[] = [];
  let size = 3; // type + u16 count
  for (const e of list) {
    const n = encodedEncounterSize(e);
    if (cur.length && (size + n > maxBytes || cur.length === 0xffff)) {
      out.push(cur);
      cur = [];
      size = 3;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Merges received encounters into what is held (one per RPI, newest lastSeen winning; on a tie
 * the one with more samples). Returns how many changed what is held.
 */
export function mergeEncounters<E extends WireEncounter>(held: Map<string, E>, incoming: E[]): { added: number; updated: number; unchanged: number } {
  const r = { added: 0, updated: 0, unchanged: 0 };
  for (const e of incoming) {
    const prev = held.get(e.rpi);
    if (!prev) {
      held.set(e.rpi, e);
      r.added++;
    } else if (e.lastSeen > prev.lastSeen || (e.lastSeen === prev.lastSeen && e.samples > prev.samples)) {
      held.set(e.rpi, e);
      r.updated++;
    } else r.unchanged++;
  }
  return r;
}
