/**
 * X25519 (RFC 7748) with raw 32-byte keys. node:crypto does the scalar
 * multiplication; @noble/curves is the alternative backend (bench, cross-checks).
 * A low-order peer key (all-zero shared secret) throws E_KEY.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { x25519 as noble } from '@noble/curves/ed25519.js';
import { BeepkitError } from '../errors.ts';

export const X25519_LEN = 32;
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function check(k: Uint8Array, what: string): void {
  if (k.length !== X25519_LEN) throw new BeepkitError('E_KEY', `x25519 ${what} must be 32 bytes, got ${k.length}`);
}

/** A private key whose KeyObject is built once. */
export class X25519Key {
  private readonly key: KeyObject;
  readonly publicKey: Uint8Array;
  constructor(priv: Uint8Array) {
    check(priv, 'private key');
    this.key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, priv]), format: 'der', type: 'pkcs8' });
    const der = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(der.subarray(der.length - 32));
  }
  /** Shared secret with a peer public key; E_KEY for a malformed or low-order key. */
  ecdh(peerPub: Uint8Array): Uint8Array {
    check(peerPub, 'public key');
    try {
      // JWK import: several times cheaper than parsing an SPKI DER in node 20.
      const x = Buffer.from(peerPub.buffer, peerPub.byteOffset, X25519_LEN).toString('base64url');
      const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
      return new Uint8Array(diffieHellman({ privateKey: this.key, publicKey: pub }));
    } catch (cause) {
      throw new BeepkitError('E_KEY', 'x25519: key agreement failed (low-order or malformed public key)', { cause });
    }
  }
}

export function x25519PublicKey(priv: Uint8Array): Uint8Array {
  return new X25519Key(priv).publicKey;
}

export function x25519(priv: Uint8Array, peerPub: Uint8Array): Uint8Array {
  return new X25519Key(priv).ecdh(peerPub);
}

/** @noble/curves backend with the same contract (for the bench and cross-checks). */
export function nobleX25519(priv: Uint8Array, peerPub: Uint8Array): Uint8Array {
  check(priv, 'private key');
  check(peerPub, 'public key');
  let s: Uint8Array;
  try {
    s = noble.getSharedSecret(priv, peerPub);
  } catch (cause) {
    throw new BeepkitError('E_KEY', 'x25519: key agreement failed', { cause });
  }
  if (s.every((b) => b === 0)) throw new BeepkitError('E_KEY', 'x25519: low-order public key');
  return s;
}

export function nobleX25519PublicKey(priv: Uint8Array): Uint8Array {
  check(priv, 'private key');
  return noble.getPublicKey(priv);
}
