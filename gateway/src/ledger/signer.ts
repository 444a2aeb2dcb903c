/**
 * Ed25519 through node:crypto (about 40x faster than the pure-JS path here:
 * sign ~36 µs, verify ~120 µs). Keys are raw 32-byte seeds / public keys.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { BeepkitError } from '@beepkit/protocol';
import type { Signer } from './types.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A Signer from a 32-byte Ed25519 seed. */
export function ed25519Signer(seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new BeepkitError('E_KEY', 'Ed25519 seed must be 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  return { publicKey, sign: (m) => new Uint8Array(sign(null, m, key)) };
}

/** A fresh random signer (tests, demos). */
export function randomSigner(): Signer {
  return ed25519Signer(new Uint8Array(randomBytes(32)));
}

/** Verifies Ed25519 signatures for one raw public key; never throws. */
export function ed25519Verifier(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  if (publicKey.length !== 32) throw new BeepkitError('E_KEY', 'Ed25519 public key must be 32 bytes');
  const key: KeyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return (m, s) => {
    if (s.length !== 64) return false;
    try {
      return verify(null, m, key, s);
    } catch {
      return false;
    }
  };
}
