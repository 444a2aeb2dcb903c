/**
 * Encounter log at rest: a versioned binary serialisation (Writer/Reader), of the whole log or of some of its
 * encounters (the journal's frames, journal.ts), and the single-file XChaCha20-Poly1305 envelope (random 24-byte
 * nonce, fixed AAD) the log was saved in before the journal, still read.
 */
import { randomBytes } from 'node:crypto';
import { BeepkitError } from '@beepkit/protocol';
import { Reader, Writer, fromHex } from '@beepkit/protocol/bytes';
import { xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import { EncounterLog, type EncounterLogOptions } from './log.ts';
import { NONE } from './store.ts';

const MAGIC = 0x424b454c; // "BKEL"
/** 2 adds each window's msClose (the proximity estimator's close time); 1 is still read (msClose absent). */
const VERSION = 2;
const AAD = new TextEncoder().encode('beepkit/encounter-log/v1');

export function serialiseEncounters(log: EncounterLog): Uint8Array {
  return serialiseSlots(log, 0, log.store.n, () => true, 0);
}

/** About the bytes the whole log's serialisation takes (the windows replaced by a load not yet compacted counted too). */
export function serialisedSize(log: EncounterLog): number {
  const st = log.store;
  return 17 + st.n * 62 + st.wn * (53 + 8 * st.nb) + log.rotationCount * 64;
}

/**
 * The encounters in slots [from, to) for which pick(slot) holds, and the rotations from `rotFrom` on, in the
 * serialised layout; straight from the columns, no encounter objects built (a full log is ~270 000 of them).
 */
export function serialiseSlots(log: EncounterLog, from: number, to: number, pick: (slot: number) => boolean, rotFrom: number): Uint8Array {
  const st = log.store;
  let count = 0;
  for (let s = from; s < to; s++) if (pick(s)) count++;
  // room for what is picked (an encounter has a window or two; the writer grows past that)
  const w = new Writer(64 + count * (62 + 2 * (53 + 8 * st.nb)) + (log.rotationCount - rotFrom) * 64);
  w.u32(MAGIC).u8(VERSION);
  w.u32(count);
  for (let s = from; s < to; s++) {
    if (!pick(s)) continue;
    w.bytes(st.rpi.subarray(16 * s, 16 * s + 16)).bytes(st.aem.subarray(4 * s, 4 * s + 4));
    w.u64(st.firstSeen[s]).u64(st.lastSeen[s]).u32(st.samples[s]);
    w.f64(st.minAtt[s]).f64(st.sumAtt[s]);
    w.u16(st.windowCount(s));
    for (let x = st.head[s]; x !== NONE; x = st.wNext[x]) {
      w.u64(st.wStart[x]).u64(st.wEnd[x]).u32(st.wSamples[x]);
      w.f64(st.wMinAtt[x]).f64(st.wSumAtt[x]);
      w.u8(st.nb);
      for (let b = 0; b < st.nb; b++) w.f64(st.wMs[x * st.nb + b]);
      const close = st.wClose[x];
      w.f64(Number.isNaN(close) ? 0 : close);
    }
  }
  w.u32(log.rotationCount - rotFrom);
  for (let i = rotFrom; i < log.rotationCount; i++) {
    const r = log.rotationAt(i);
    w.str(r.address).bytes(fromHex(r.fromRpi), 16).bytes(fromHex(r.toRpi), 16).u64(r.at);
  }
  return w.finish();
}

export function deserialiseEncounters(buf: Uint8Array, opts: EncounterLogOptions = {}): EncounterLog {
  const log = new EncounterLog(opts);
  deserialiseInto(log, buf);
  return log;
}

/**
 * Adds a serialisation's encounters and rotations to `log`: an encounter of an RPI the log holds replaces it in
 * place (its windows left for the next compaction), a new one is added after the others.
 */
export function deserialiseInto(log: EncounterLog, buf: Uint8Array): void {
  const r = new Reader(buf, 'encounter log');
  if (r.u32('magic') !== MAGIC) throw new BeepkitError('E_FORMAT', 'encounter log: bad magic');
  const v = r.u8('version');
  if (v !== VERSION && v !== 1) throw new BeepkitError('E_VERSION', `encounter log: version ${v}`);
  const st = log.store;
  const ms: number[] = [];
  const n = r.u32('count');
  for (let i = 0; i < n; i++) {
    // a later entry of an RPI replaces an earlier one, as restore() does
    const s = st.upsert(r.bytes(16, 'rpi'));
    st.setEncounter(s, r.bytes(4, 'aem'), r.u64('firstSeen'), r.u64('lastSeen'), r.u32('samples'), r.f64('minAttenuation'), r.f64('sumAttenuation'));
    const nw = r.u16('windows');
    for (let j = 0; j < nw; j++) {
      const start = r.u64('start');
      const end = r.u64('end');
      const ws = r.u32('samples');
      const wmin = r.f64('minAttenuation');
      const wsum = r.f64('sumAttenuation');
      const nb = r.u8('buckets');
      st.checkBuckets(nb);
      ms.length = 0;
      for (let b = 0; b < nb; b++) ms.push(r.f64('ms'));
      const msClose = v >= 2 ? r.f64('msClose') : NaN;
      st.pushWindow(s, start, end, ws, wmin, wsum, ms, msClose);
    }
  }
  const nr = r.u32('rotations');
  for (let i = 0; i < nr; i++) log.pushRotation(r.str('address'), r.bytes(16), r.bytes(16), r.u64('at'));
  r.end();
}

/** nonce(24) || XChaCha20-Poly1305(key, serialised log). */
export function sealEncounters(log: EncounterLog, key: Uint8Array, nonce: Uint8Array = randomBytes(24)): Uint8Array {
  const ct = xchachaSeal(key, nonce, serialiseEncounters(log), AAD);
  const out = new Uint8Array(24 + ct.length);
  out.set(nonce, 0);
  out.set(ct, 24);
  return out;
}

/** Opens a sealed log; E_DECRYPT on a wrong key or tampering, E_TRUNCATED if too short. */
export function openEncounters(sealed: Uint8Array, key: Uint8Array, opts: EncounterLogOptions = {}): EncounterLog {
  if (sealed.length < 24 + 16) throw new BeepkitError('E_TRUNCATED', 'encounter log: sealed file too short');
  return deserialiseEncounters(xchachaOpen(key, sealed.subarray(0, 24), sealed.subarray(24), AAD), opts);
}
