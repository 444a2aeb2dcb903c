/**
 * Encounter log at rest: a versioned binary serialisation (Writer/Reader) and
 * an XChaCha20-Poly1305 envelope (random 24-byte nonce, fixed AAD) with an
 * atomic file layer.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BeepkitError } from '@beepkit/protocol';
import { Reader, Writer, fromHex, toHex } from '@beepkit/protocol/bytes';
import { xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import { writeFileAtomic } from '../infra/files.ts';
import { EncounterLog, type Encounter, type EncounterLogOptions, type ExposureWindow, type Rotation } from './log.ts';

const MAGIC = 0x424b454c; // "BKEL"
/** 2 adds each window's msClose (the proximity estimator's close time); 1 is still read (msClose absent). */
const VERSION = 2;
const AAD = new TextEncoder().encode('beepkit/encounter-log/v1');

function att(w: Writer, v: number): void {
  w.f64(v);
}

export function serialiseEncounters(log: EncounterLog): Uint8Array {
  const w = new Writer(4096);
  w.u32(MAGIC).u8(VERSION);
  const list = log.encounters();
  w.u32(list.length);
  for (const e of list) {
    w.bytes(fromHex(e.rpi, 'rpi'), 16).bytes(fromHex(e.aem, 'aem'), 4);
    w.u64(e.firstSeen).u64(e.lastSeen).u32(e.samples);
    att(w, e.minAttenuation);
    att(w, e.sumAttenuation);
    w.u16(e.windows.length);
    for (const x of e.windows) {
      w.u64(x.start).u64(x.end).u32(x.samples);
      att(w, x.minAttenuation);
      att(w, x.sumAttenuation);
      w.u8(x.msByBucket.length);
      for (const ms of x.msByBucket) w.f64(ms);
      w.f64(x.msClose ?? 0);
    }
  }
  w.u32(log.rotations.length);
  for (const r of log.rotations) w.str(r.address).bytes(fromHex(r.fromRpi), 16).bytes(fromHex(r.toRpi), 16).u64(r.at);
  return w.finish();
}

export function deserialiseEncounters(buf: Uint8Array, opts: EncounterLogOptions = {}): EncounterLog {
  const r = new Reader(buf, 'encounter log');
  if (r.u32('magic') !== MAGIC) throw new BeepkitError('E_FORMAT', 'encounter log: bad magic');
  const v = r.u8('version');
  if (v !== VERSION && v !== 1) throw new BeepkitError('E_VERSION', `encounter log: version ${v}`);
  const n = r.u32('count');
  const encounters: Encounter[] = [];
  for (let i = 0; i < n; i++) {
    const rpi = toHex(r.bytes(16, 'rpi'));
    const aem = toHex(r.bytes(4, 'aem'));
    const firstSeen = r.u64('firstSeen');
    const lastSeen = r.u64('lastSeen');
    const samples = r.u32('samples');
    const minAttenuation = r.f64('minAttenuation');
    const sumAttenuation = r.f64('sumAttenuation');
    const nw = r.u16('windows');
    const windows: ExposureWindow[] = [];
    for (let j = 0; j < nw; j++) {
      const start = r.u64('start');
      const end = r.u64('end');
      const ws = r.u32('samples');
      const wmin = r.f64('minAttenuation');
      const wsum = r.f64('sumAttenuation');
      const nb = r.u8('buckets');
      const msByBucket: number[] = [];
      for (let b = 0; b < nb; b++) msByBucket.push(r.f64('ms'));
      const msClose = v >= 2 ? r.f64('msClose') : undefined;
      windows.push({ start, end, samples: ws, minAttenuation: wmin, sumAttenuation: wsum, msByBucket, ...(msClose !== undefined ? { msClose } : {}) });
    }
    encounters.push({ rpi, aem, firstSeen, lastSeen, samples, minAttenuation, sumAttenuation, windows });
  }
  const nr = r.u32('rotations');
  const rotations: Rotation[] = [];
  for (let i = 0; i < nr; i++) rotations.push({ address: r.str('address'), fromRpi: toHex(r.bytes(16)), toRpi: toHex(r.bytes(16)), at: r.u64('at') });
  r.end();
  const log = new EncounterLog(opts);
  log.restore(encounters, rotations);
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
