/**
 * Ed25519 (RFC 8032) with raw 32-byte seeds and public keys. The default
 * backend is node:crypto (OpenSSL, fast); `nobleEd25519` is the @noble/curves
 * backend, kept for cross-checks and the bench. Both produce identical
 * (deterministic) signatures. Verification returns false, never throws, for a
 * malformed key or signature; signing with a malformed seed throws E_KEY.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519 as noble } from '@noble/curves/ed25519.js';
import { BeepkitError } from '../errors.ts';

export const ED25519_SEED_LEN = 32;
export const ED25519_PUB_LEN = 32;
export const ED25519_SIG_LEN = 64;

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Ed25519Backend {
  name: string;
  publicKey(seed: Uint8Array): Uint8Array;
  sign(seed: Uint8Array, msg: Uint8Array): Uint8Array;
  verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
}

function privKey(seed: Uint8Array): KeyObject {
  if (seed.length !== ED25519_SEED_LEN) throw new BeepkitError('E_KEY', `ed25519 seed must be 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

const PUB_CACHE_MAX = 4096;
const pubCache = new Map<string, KeyObject>();

/**
 * The node:crypto KeyObject of a raw Ed25519 public key, from a bounded cache
 * (first in, first out; 4096 keys): the import (~20 µs) is paid once per key,
 * so a CA key or a pseudonym's key verifying many messages costs one lookup.
 */
export function ed25519KeyObject(pub: Uint8Array): KeyObject {
  if (pub.length !== ED25519_PUB_LEN) throw new BeepkitError('E_KEY', `ed25519 public key must be 32 bytes, got ${pub.length}`);
  const id = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('latin1');
  let k = pubCache.get(id);
  if (k) return k;
  // JWK import: several times cheaper than parsing an SPKI DER in node 20 (same raw key)
  k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(id, 'latin1').toString('base64url') }, format: 'jwk' });
  if (pubCache.size >= PUB_CACHE_MAX) pubCache.delete(pubCache.keys().next().value!);
  pubCache.set(id, k);
  return k;
}

/** A signing key whose KeyObject is built once (use for many signatures). */
export class Ed25519Signer {
  private readonly key: KeyObject;
  readonly publicKey: Uint8Array;
  constructor(seed: Uint8Array) {
    this.key = privKey(seed);
    const der = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(der.subarray(der.length - 32));
  }
  sign(msg: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, msg, this.key));
  }
}

export const nodeEd25519: Ed25519Backend = {
  name: 'node:crypto',
  publicKey: (seed) => new Ed25519Signer(seed).publicKey,
  sign: (seed, msg) => new Ed25519Signer(seed).sign(msg),
  verify(pub, msg, sig) {
    if (pub.length !== ED25519_PUB_LEN || sig.length !== ED25519_SIG_LEN) return false;
    try {
      return verify(null, msg, ed25519KeyObject(pub), sig);
    } catch {
      return false;
    }
  },
};

export const nobleEd25519: Ed25519Backend = {
  name: '@noble/curves',
  publicKey(seed) {
    if (seed.length !== ED25519_SEED_LEN) throw new BeepkitError('E_KEY', `ed25519 seed must be 32 bytes, got ${seed.length}`);
    return noble.getPublicKey(seed);
  },
  sign(seed, msg) {
    if (seed.length !== ED25519_SEED_LEN) throw new BeepkitError('E_KEY', `ed25519 seed must be 32 bytes, got ${seed.length}`);
    return noble.sign(msg, seed);
  },
  verify(pub, msg, sig) {
    if (pub.length !== ED25519_PUB_LEN || sig.length !== ED25519_SIG_LEN) return false;
    try {
      return noble.verify(sig, msg, pub, { zip215: false });
    } catch {
      return false;
    }
  },
};

export const ed25519PublicKey = nodeEd25519.publicKey;
export const ed25519Sign = nodeEd25519.sign;
export const ed25519Verify = nodeEd25519.verify;
