/**
 * Signed tree head (STH) codec. Layout (big-endian, `Writer`/`Reader`):
 *
 *   u8 version (1) | str chainId | u64 treeSize | 32 rootHash | u64 timestampMs
 *   | u64 blockHeight | 8 keyId | 64 signature
 *
 * The signature is Ed25519 over `signingBytes(sth)` = the ASCII domain tag
 * "beepkit/sth/v1" followed by every field above except the signature.
 * `keyId` is the first 8 bytes of SHA-256 of the signer's 32-byte public key.
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer } from '../bytes.ts';
import { HASH_SIZE, sha256 } from './hash.ts';

export const STH_VERSION = 1;
export const SIGNATURE_SIZE = 64;
export const KEY_ID_SIZE = 8;
const STH_DOMAIN = new TextEncoder().encode('beepkit/sth/v1');

export interface SignedTreeHead {
  chainId: string;
  treeSize: number;
  rootHash: Uint8Array;
  timestampMs: number;
  blockHeight: number;
  keyId: Uint8Array;
  signature: Uint8Array;
}

/** First 8 bytes of SHA-256(publicKey). */
export function keyIdOf(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, KEY_ID_SIZE);
}

function writeBody(w: Writer, sth: Omit<SignedTreeHead, 'signature'>): Writer {
  if (sth.chainId.length === 0 || sth.chainId.length > 64) throw new BeepkitError('E_RANGE', 'STH chainId must be 1..64 characters');
  return w
    .u8(STH_VERSION)
    .str(sth.chainId)
    .u64(sth.treeSize)
    .bytes(sth.rootHash, HASH_SIZE)
    .u64(sth.timestampMs)
    .u64(sth.blockHeight)
    .bytes(sth.keyId, KEY_ID_SIZE);
}

/** The bytes the gateway key signs. */
export function signingBytes(sth: Omit<SignedTreeHead, 'signature'>): Uint8Array {
  const w = new Writer(128).bytes(STH_DOMAIN);
  return writeBody(w, sth).finish();
}

export function encodeSth(sth: SignedTreeHead): Uint8Array {
  return writeBody(new Writer(160), sth).bytes(sth.signature, SIGNATURE_SIZE).finish();
}

/** Reads one STH from `r` (leaves the reader after it). */
export function readSth(r: Reader): SignedTreeHead {
  const version = r.u8('sth.version');
  if (version !== STH_VERSION) throw new BeepkitError('E_VERSION', `STH version ${version} unsupported`);
  const chainId = r.str('sth.chainId');
  if (chainId.length === 0) throw new BeepkitError('E_FORMAT', 'STH chainId is empty');
  return {
    chainId,
    treeSize: r.u64('sth.treeSize'),
    rootHash: r.bytes(HASH_SIZE, 'sth.rootHash'),
    timestampMs: r.u64('sth.timestampMs'),
    blockHeight: r.u64('sth.blockHeight'),
    keyId: r.bytes(KEY_ID_SIZE, 'sth.keyId'),
    signature: r.bytes(SIGNATURE_SIZE, 'sth.signature'),
  };
}

export function decodeSth(buf: Uint8Array): SignedTreeHead {
  const r = new Reader(buf, 'sth');
  const sth = readSth(r);
  r.end();
  return sth;
}
