/**
 * Hash and key-derivation helpers (SHA-256, domain-tagged SHA-256, HKDF-SHA256).
 * node:crypto does the work; inputs are Uint8Array, outputs fresh Uint8Array.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { BeepkitError } from '../errors.ts';

const enc = new TextEncoder();

/** UTF-8 bytes of a string (helper for info strings and tags). */
export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** SHA-256(tag as UTF-8 || parts…): a hash that cannot collide across purposes. */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  return sha256(utf8(tag), ...parts);
}

/**
 * HKDF-SHA256 (RFC 5869). `salt` undefined or empty means "no salt" (a zero
 * block, as the RFC says); `info` is a string (UTF-8) or bytes.
 */
export function hkdf(ikm: Uint8Array, salt: Uint8Array | undefined, info: string | Uint8Array, length: number): Uint8Array {
  try {
    return new Uint8Array(hkdfSync('sha256', ikm, salt ?? new Uint8Array(0), typeof info === 'string' ? utf8(info) : info, length));
  } catch (cause) {
    throw new BeepkitError('E_KEY', `hkdf failed: ${(cause as Error).message}`, { cause });
  }
}
