/**
 * Encounter log at rest: a versioned binary serialisation (Writer/Reader) and
 * an XChaCha20-Poly1305 envelope (random 24-byte nonce, fixed AAD) with an
 * atomic file layer.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BeepkitError } from '@beepkit/protocol';
import { Reader, Writer, fromHex } from '@beepkit/protocol/bytes';
import { xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import { writeFileAtomic } from '../infra/files.ts';
import { EncounterLog, type EncounterLogOptions } from './log.ts';
import { NONE } from './store.ts';

const MAGIC = 0x424b454c; // "BKEL"
/** 2 adds each window's msClose (the proximity estimator's close time); 1 is still read (msClose absent). */
const VERSION = 2;
const AAD = new TextEncoder().encode('beepkit/encounter-log/v1');

export function serialiseEncounters(log: EncounterLog): Uint8Array {
  const st = log.store;
  const w = new Writer(9 + 8 + st.n * 62 + st.wn * (45 + 8 * st.nb + 8) + log.rotationCount * 64);
  w.u32(MAGIC).u8(VERSION);
  w.u32(st.n);
  // straight from the columns: no encounter objects built (a full log is ~270 000 of them)
  for (let s = 0; s < st.n; s++) {
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
  w.u32(log.rotationCount);
  for (let i = 0; i < log.rotationCount; i++) {
    const r = log.rotationAt(i);
    w.str(r.address).bytes(fromHex(r.fromRpi), 16).bytes(fromHex(r.toRpi), 16).u64(r.at);
  }
  return w.finish();
}

export function deserialiseEncounters(buf: Uint8Array, opts: EncounterLogOptions = {}): EncounterLog {
  const r = new Reader(buf, 'encounter log');
  if (r.u32('magic') !== MAGIC) throw new BeepkitError('E_FORMAT', 'encounter log: bad magic');
  const v = r.u8('version');
  if (v !== VERSION && v !== 1) throw new BeepkitError('E_VERSION', `encounter log: version ${v}`);
  const log = new EncounterLog(opts);
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
  return log;
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

/**
 * Writes the sealed log durably (writeFileAtomic: temp file, fsync, rename, directory fsync; 0600), so a power
 * loss leaves the previous log or this one. E_IO when it cannot.
 */
export async function saveEncounters(path: string, log: EncounterLog, key: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, sealEncounters(log, key));
  } catch (cause) {
    throw new BeepkitError('E_IO', `encounter log: cannot write ${path}`, { cause });
  }
}

export async function loadEncounters(path: string, key: Uint8Array, opts: EncounterLogOptions = {}): Promise<EncounterLog> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (cause) {
    throw new BeepkitError('E_IO', `encounter log: cannot read ${path}`, { cause });
  }
  return openEncounters(new Uint8Array(buf), key, opts);
}
