/**
 * AEADs. ChaCha20-Poly1305 (RFC 8439, 12-byte nonce) through node:crypto for
 * the hot path (TraceCode records), XChaCha20-Poly1305 (24-byte nonce) through
 * @noble/ciphers where nonces are random (keystore). Open failures throw
 * BeepkitError('E_DECRYPT'); nothing else escapes.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { BeepkitError } from '../errors.ts';

export const TAG_LEN = 16;
const EMPTY = new Uint8Array(0);

function checkKeyNonce(key: Uint8Array, nonce: Uint8Array, nonceLen: number): void {
  if (key.length !== 32) throw new BeepkitError('E_KEY', `aead key must be 32 bytes, got ${key.length}`);
  if (nonce.length !== nonceLen) throw new BeepkitError('E_RANGE', `aead nonce must be ${nonceLen} bytes, got ${nonce.length}`);
}

/** ChaCha20-Poly1305 seal: returns ciphertext || 16-byte tag. */
export function chachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  checkKeyNonce(key, nonce, 12);
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LEN });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const out = new Uint8Array(plaintext.length + TAG_LEN);
  const body = c.update(plaintext);
  out.set(body, 0);
  const fin = c.final();
  out.set(fin, body.length);
  out.set(c.getAuthTag(), plaintext.length);
  return out;
}

/** ChaCha20-Poly1305 open of ciphertext || tag; throws E_DECRYPT on any mismatch. */
export function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  checkKeyNonce(key, nonce, 12);
  if (sealed.length < TAG_LEN) throw new BeepkitError('E_TRUNCATED', 'aead: ciphertext shorter than its tag');
  const ctLen = sealed.length - TAG_LEN;
  try {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LEN });
    d.setAAD(aad, { plaintextLength: ctLen });
    d.setAuthTag(sealed.subarray(ctLen));
    const body = d.update(sealed.subarray(0, ctLen));
    const fin = d.final();
    const out = new Uint8Array(ctLen);
    out.set(body, 0);
    out.set(fin, body.length);
    return out;
  } catch (cause) {
    throw new BeepkitError('E_DECRYPT', 'aead: authentication failed', { cause });
  }
}

/** XChaCha20-Poly1305 seal (24-byte nonce): ciphertext || tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  checkKeyNonce(key, nonce, 24);
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/** XChaCha20-Poly1305 open; throws E_DECRYPT on any mismatch. */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  checkKeyNonce(key, nonce, 24);
  if (sealed.length < TAG_LEN) throw new BeepkitError('E_TRUNCATED', 'aead: ciphertext shorter than its tag');
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  } catch (cause) {
    throw new BeepkitError('E_DECRYPT', 'aead: authentication failed', { cause });
  }
}
