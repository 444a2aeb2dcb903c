/**
 * Keystore encoding and sealing (pure; the file layer lives in the agent).
 *
 * State plaintext:  u8 version=1 | u16 retentionDays | u8 nEpochs (1..255)
 *                   | nEpochs × (u32 fromDay | 32 chainKey) | u16 nRenounced | nRenounced × u32 day
 * Sealed file:      "BKKS" | u8 version=1 | u8 kdf | kdf params | 24 nonce | XChaCha20-Poly1305(state) + 16 tag
 *   kdf 1 = scrypt: u8 log2 N | u8 r | u8 p | 16 salt   (passphrase → 32-byte KEK)
 *   kdf 2 = key file: no params (the 32-byte key is the KEK)
 *   AAD = every header byte before the ciphertext (so params cannot be swapped).
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, equalBytes } from '../bytes.ts';
import { xchachaOpen, xchachaSeal } from '../crypto/aead.ts';
import { KEYS_VERSION, MASTER_LEN, checkDay, checkRetention, type KeystoreState } from './schedule.ts';

export const KEYSTORE_MAGIC = Uint8Array.of(0x42, 0x4b, 0x4b, 0x53); // "BKKS"
export const KEYSTORE_VERSION = 1;
export const KDF_SCRYPT = 1;
export const KDF_KEYFILE = 2;
export const DEFAULT_SCRYPT = { logN: 15, r: 8, p: 1 } as const;

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

export type Kek = { passphrase: string; scrypt?: ScryptParams } | { key: Uint8Array };

export function encodeKeystoreState(s: KeystoreState): Uint8Array {
  checkRetention(s.retentionDays);
  if (s.epochs.length < 1 || s.epochs.length > 255) throw new BeepkitError('E_RANGE', 'keystore needs 1..255 epochs');
  if (s.renounced.length > 0xffff) throw new BeepkitError('E_RANGE', 'too many renounced days');
  const w = new Writer(64 + s.epochs.length * 36 + s.renounced.length * 4);
  w.u8(KEYS_VERSION).u16(s.retentionDays).u8(s.epochs.length);
  for (const e of s.epochs) w.u32(e.fromDay).bytes(e.chainKey, MASTER_LEN);
  w.u16(s.renounced.length);
  for (const d of s.renounced) w.u32(d);
  return w.finish();
}

export function decodeKeystoreState(b: Uint8Array): KeystoreState {
  const r = new Reader(b, 'keystore state');
  const v = r.u8('version');
  if (v !== KEYS_VERSION) throw new BeepkitError('E_VERSION', `keystore state: unknown version ${v}`);
  const retentionDays = r.u16('retentionDays');
  checkRetention(retentionDays);
  const n = r.u8('epochs');
  if (n < 1) throw new BeepkitError('E_FORMAT', 'keystore state: no master epoch');
  const epochs = [];
  for (let i = 0; i < n; i++) {
    const fromDay = r.u32('fromDay');
    if (i > 0 && fromDay <= epochs[i - 1].fromDay) throw new BeepkitError('E_FORMAT', 'keystore state: epochs not ascending');
    epochs.push({ fromDay, chainKey: r.bytes(MASTER_LEN, 'chainKey') });
  }
  const m = r.u16('renounced');
  const renounced: number[] = [];
  for (let i = 0; i < m; i++) {
    const d = r.u32('renounced day');
    checkDay(d);
    if (i > 0 && d <= renounced[i - 1]) throw new BeepkitError('E_FORMAT', 'keystore state: renounced days not ascending');
    renounced.push(d);
  }
  r.end();
  return { retentionDays, epochs, renounced };
}

function checkScrypt(p: ScryptParams): void {
  const ok = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  if (!ok(p.logN, 1, 20) || !ok(p.r, 1, 32) || !ok(p.p, 1, 16)) throw new BeepkitError('E_RANGE', `scrypt parameters out of range: ${JSON.stringify(p)}`);
}

function scryptKek(passphrase: string, salt: Uint8Array, p: ScryptParams): Uint8Array {
  const N = 2 ** p.logN;
  try {
    return new Uint8Array(scryptSync(passphrase.normalize('NFC'), salt, 32, { N, r: p.r, p: p.p, maxmem: 256 * N * p.r + (64 << 20) }));
  } catch (cause) {
    throw new BeepkitError('E_KEY', `scrypt failed: ${(cause as Error).message}`, { cause });
  }
}

export interface SealOptions {
  /** Fixed nonce (24 bytes) and salt (16 bytes) for test vectors; random by default. */
  nonce?: Uint8Array;
  salt?: Uint8Array;
}

export function sealKeystore(state: KeystoreState, kek: Kek, opts: SealOptions = {}): Uint8Array {
  const w = new Writer(256);
  w.bytes(KEYSTORE_MAGIC).u8(KEYSTORE_VERSION);
  let key: Uint8Array;
  if ('passphrase' in kek) {
    const params = kek.scrypt ?? DEFAULT_SCRYPT;
    checkScrypt(params);
    const salt = opts.salt ?? new Uint8Array(randomBytes(16));
    w.u8(KDF_SCRYPT).u8(params.logN).u8(params.r).u8(params.p).bytes(salt, 16);
    key = scryptKek(kek.passphrase, salt, params);
  } else {
    if (kek.key.length !== 32) throw new BeepkitError('E_KEY', 'key file must hold 32 bytes');
    w.u8(KDF_KEYFILE);
    key = kek.key;
  }
  const nonce = opts.nonce ?? new Uint8Array(randomBytes(24));
  w.bytes(nonce, 24);
  const header = w.finish();
  return new Writer(header.length + 256)
    .bytes(header)
    .bytes(xchachaSeal(key, nonce, encodeKeystoreState(state), header))
    .finish();
}

export interface KeystoreHeader {
  version: number;
  kdf: number;
  scrypt?: ScryptParams;
  salt?: Uint8Array;
  nonce: Uint8Array;
  headerLength: number;
}

export function decodeKeystoreHeader(b: Uint8Array): KeystoreHeader {
  const r = new Reader(b, 'keystore');
  if (!equalBytes(r.bytes(4, 'magic'), KEYSTORE_MAGIC)) throw new BeepkitError('E_FORMAT', 'keystore: bad magic (not a beepkit keystore)');
  const version = r.u8('version');
  if (version !== KEYSTORE_VERSION) throw new BeepkitError('E_VERSION', `keystore: unknown version ${version}`);
  const kdf = r.u8('kdf');
  let scrypt: ScryptParams | undefined;
  let salt: Uint8Array | undefined;
  if (kdf === KDF_SCRYPT) {
    scrypt = { logN: r.u8('logN'), r: r.u8('r'), p: r.u8('p') };
    checkScrypt(scrypt);
    salt = r.bytes(16, 'salt');
  } else if (kdf !== KDF_KEYFILE) throw new BeepkitError('E_FORMAT', `keystore: unknown kdf ${kdf}`);
  const nonce = r.bytes(24, 'nonce');
  return { version, kdf, scrypt, salt, nonce, headerLength: r.offset };
}

export function openKeystore(b: Uint8Array, kek: Kek): KeystoreState {
  const h = decodeKeystoreHeader(b);
  let key: Uint8Array;
  if (h.kdf === KDF_SCRYPT) {
    if (!('passphrase' in kek)) throw new BeepkitError('E_KEY', 'keystore is protected by a passphrase, not a key file');
    key = scryptKek(kek.passphrase, h.salt!, h.scrypt!);
  } else {
    if (!('key' in kek)) throw new BeepkitError('E_KEY', 'keystore is protected by a key file, not a passphrase');
    if (kek.key.length !== 32) throw new BeepkitError('E_KEY', 'key file must hold 32 bytes');
    key = kek.key;
  }
  const pt = xchachaOpen(key, h.nonce, b.subarray(h.headerLength), b.subarray(0, h.headerLength));
  return decodeKeystoreState(pt);
}
