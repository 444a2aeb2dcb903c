/**
 * Venue provisioning: a fresh 32-byte venue key, sealed at rest, its 6-byte
 * venue id, and the registration record for the CA.
 *
 * venue.key file (mode 0600, atomic write):
 *   "BKVK" | u8 version=1 | u8 kdf | kdf params | 24 nonce | XChaCha20-Poly1305(6 venue id | 32 key) + tag
 *   kdf 1 = scrypt(passphrase): u8 log2 N | u8 r | u8 p | 16 salt;  kdf 2 = a 32-byte key file (the KEK)
 *   AAD = every header byte (params cannot be swapped).
 * venue id = SHA-256("beepkit/v1/venue-id" || key)[0..6] (or the id the gateway chose, when the key is imported).
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BeepkitError } from '@beepkit/protocol/errors';
import { equalBytes, Reader, toHex, Writer } from '@beepkit/protocol/bytes';
import { taggedHash, xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import { VENUE_ID_BYTES, VENUE_KEY_BYTES } from '@beepkit/protocol/frames';
import type { VenueRegister } from '@beepkit/protocol/wire';
import { checkPrivateFile, readKeyFile } from '@beepkit/device-core/keys';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';

const MAGIC = Uint8Array.of(0x42, 0x4b, 0x56, 0x4b); // "BKVK"
export type VenueSecret = { passphrase: string; scrypt?: { logN: number; r: number; p: number } } | { keyFile: string };

export interface VenueKey {
  venueId: Uint8Array;
  key: Uint8Array;
}

export function deriveVenueId(key: Uint8Array): Uint8Array {
  if (key.length !== VENUE_KEY_BYTES) throw new BeepkitError('E_KEY', 'venue key must be 32 bytes');
  return taggedHash('beepkit/v1/venue-id', key).slice(0, VENUE_ID_BYTES);
}

function kek(secret: VenueSecret, header: Writer | Reader, read: boolean): Promise<Uint8Array> | Uint8Array {
  if ('keyFile' in secret) {
    if (read) {
      if ((header as Reader).u8('kdf') !== 2) throw new BeepkitError('E_KEY', 'venue key file is sealed with a passphrase, not a key file');
    } else (header as Writer).u8(2);
    return readKeyFile(secret.keyFile);
  }
  let p = secret.scrypt ?? { logN: 15, r: 8, p: 1 };
  let salt: Uint8Array;
  if (read) {
    const r = header as Reader;
    if (r.u8('kdf') !== 1) throw new BeepkitError('E_KEY', 'venue key file is sealed with a key file, not a passphrase');
    p = { logN: r.u8('logN'), r: r.u8('r'), p: r.u8('p') };
    if (p.logN > 20 || p.r > 32 || p.p > 16) throw new BeepkitError('E_RANGE', 'scrypt parameters out of range');
    salt = r.bytes(16, 'salt');
  } else {
    salt = new Uint8Array(randomBytes(16));
    (header as Writer).u8(1).u8(p.logN).u8(p.r).u8(p.p).bytes(salt);
  }
  const N = 2 ** p.logN;
  return new Uint8Array(scryptSync(secret.passphrase.normalize('NFC'), salt, 32, { N, r: p.r, p: p.p, maxmem: 256 * N * p.r + (64 << 20) }));
}

export async function sealVenueKey(v: VenueKey, secret: VenueSecret): Promise<Uint8Array> {
  const w = new Writer(128).bytes(MAGIC).u8(1);
  const k = await kek(secret, w, false);
  const nonce = new Uint8Array(randomBytes(24));
  const header = w.bytes(nonce).finish();
  const plain = new Writer(38).bytes(v.venueId, VENUE_ID_BYTES).bytes(v.key, VENUE_KEY_BYTES).finish();
  return new Writer(header.length + 64)
    .bytes(header)
    .bytes(xchachaSeal(k, nonce, plain, header))
    .finish();
}

export async function openVenueKey(bytes: Uint8Array, secret: VenueSecret): Promise<VenueKey> {
  const r = new Reader(bytes, 'venue key file');
  if (!equalBytes(r.bytes(4, 'magic'), MAGIC)) throw new BeepkitError('E_FORMAT', 'not a beepkit venue key file');
  const v = r.u8('version');
  if (v !== 1) throw new BeepkitError('E_VERSION', `venue key file: version ${v}`);
  const k = await kek(secret, r, true);
  const nonce = r.bytes(24, 'nonce');
  const header = bytes.subarray(0, r.offset);
  const plain = xchachaOpen(k, nonce, bytes.subarray(r.offset), header);
  return { venueId: plain.slice(0, VENUE_ID_BYTES), key: plain.slice(VENUE_ID_BYTES) };
}

export async function loadVenueKey(path: string, secret: VenueSecret): Promise<VenueKey> {
  await checkPrivateFile(path, 'venue key file');
  return openVenueKey(new Uint8Array(await readFile(path)), secret);
}

export interface VenueInfo {
  name: string;
  /** state/county/city (the venue is the leaf). */
  region: string[];
  lat: number;
  lon: number;
  radiusM: number;
}

export function checkVenueInfo(v: VenueInfo): void {
  if (!v.name || v.name.length > 100) throw new BeepkitError('E_CONFIG', 'venue name must be 1..100 characters');
  if (v.region.length < 1 || v.region.length > 4 || v.region.some((p) => !p || p.includes('/')))
    throw new BeepkitError('E_CONFIG', 'region must be state/county/city (1..4 non-empty parts)');
  if (!(Math.abs(v.lat) <= 90 && Math.abs(v.lon) <= 180)) throw new BeepkitError('E_RANGE', 'venue position out of range');
  if (!(Number.isInteger(v.radiusM) && v.radiusM > 0 && v.radiusM <= 100_000)) throw new BeepkitError('E_RANGE', 'venue radius must be 1..100000 m');
}

/** Creates (or imports) the venue key and writes it sealed to `path`. Refuses to overwrite (E_EXISTS). */
export async function provisionVenue(path: string, secret: VenueSecret, opts: { importKey?: Uint8Array; venueId?: Uint8Array } = {}): Promise<VenueKey> {
  if (
    await readFile(path).then(
      () => true,
      () => false,
    )
  )
    throw new BeepkitError('E_EXISTS', `${path} exists: this beacon is already provisioned`);
  const key = opts.importKey ?? new Uint8Array(randomBytes(VENUE_KEY_BYTES));
  const venueId = opts.venueId ?? deriveVenueId(key);
  if (venueId.length !== VENUE_ID_BYTES) throw new BeepkitError('E_RANGE', 'venue id must be 6 bytes');
  await writeFileAtomic(path, await sealVenueKey({ venueId, key }, secret));
  return { venueId, key };
}

/** The VenueRegister message for the CA (carries the venue key: send it only over the authenticated beacon topic). */
export function venueRegister(v: VenueKey, info: VenueInfo, correlationId: Uint8Array = new Uint8Array(randomBytes(8))): VenueRegister {
  return {
    type: 'venue-register',
    correlationId,
    venueId: v.venueId,
    regionPath: info.region,
    latE6: Math.round(info.lat * 1e6),
    lonE6: Math.round(info.lon * 1e6),
    radiusM: info.radiusM,
    keyMaterial: v.key,
    name: info.name,
  };
}

const q = (s: string): string => (/^[A-Za-z0-9_./:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The record for offline registration (no key in it) and the exact gateway
 * command; the key travels in `keyFile` (hex, 0600), written by the caller.
 */
export function offlineRecord(v: VenueKey, info: VenueInfo, keyFile: string): { venue: Record<string, unknown>; command: string } {
  const venue = {
    id: toHex(v.venueId),
    name: info.name,
    region: info.region,
    latE6: Math.round(info.lat * 1e6),
    lonE6: Math.round(info.lon * 1e6),
    radiusM: info.radiusM,
  };
  const command = [
    'beepkit gateway venue add',
    `--name ${q(info.name)}`,
    `--region ${q(info.region.join('/'))}`,
    `--lat ${info.lat}`,
    `--lon ${info.lon}`,
    `--radius ${info.radiusM}`,
    `--id ${toHex(v.venueId)}`,
    `--key-file ${q(keyFile)}`,
  ].join(' ');
  return { venue, command };
}
