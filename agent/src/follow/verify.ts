/**
 * Notification-chain block verification (pure). The follower keeps a cursor:
 * the next height, the previous block's hash and the compact Merkle frontier
 * of the chain (one peak per set bit of the tree size, ≤ 64 hashes), so every
 * block is checked against everything before it without keeping the chain:
 *
 *   decode (ledger block codec) → chain, height, prevHash linkage, first leaf
 *   index, key id, Ed25519 header signature (gateway key), each entry hash =
 *   RFC 9162 leaf hash of its data, entries root, and the block's signed tree
 *   head: fields match the block, signature, root = the frontier's root after
 *   appending the block's entries.
 *
 * Codes: decoder codes (E_TRUNCATED, E_FORMAT, …), E_SEQUENCE (not the next
 * height), E_CHAIN (linkage / leaf index / chain name), E_KEY (another key id),
 * E_SIGNATURE, E_CHECKSUM (an entry hash, the entries root or the tree root).
 */
import { BeepkitError, equalBytes, type ErrorCode } from '@beepkit/protocol';
import { ed25519Verify } from '@beepkit/protocol/crypto';
import { EMPTY_ROOT, HASH_SIZE, keyIdOf, leafHash, nodeHash, rootOf, signingBytes } from '@beepkit/protocol/merkle';
import { blockHash, blockSigningBytes, decodeBlock, type Block } from '@beepkit/protocol/ledger';

export interface ChainCursor {
  /** Next height expected. */
  height: number;
  /** Hash of the block at height − 1 (zeros before the first block). */
  prevHash: Uint8Array;
  treeSize: number;
  /** Peaks of the Merkle tree of size treeSize, largest first. */
  frontier: Uint8Array[];
}

export function genesisCursor(): ChainCursor {
  return { height: 0, prevHash: new Uint8Array(HASH_SIZE), treeSize: 0, frontier: [] };
}

/** Appends leaf hashes to a frontier (returns a new one). */
export function appendFrontier(frontier: readonly Uint8Array[], size: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  const f = [...frontier];
  let n = size;
  for (const leaf of leaves) {
    let h = leaf;
    for (let s = n; s & 1; s = Math.floor(s / 2)) h = nodeHash(f.pop()!, h);
    f.push(h);
    n++;
  }
  return f;
}

/** RFC 9162 root of the tree whose frontier this is. */
export function frontierRoot(frontier: readonly Uint8Array[]): Uint8Array {
  if (frontier.length === 0) return EMPTY_ROOT;
  let r = frontier[frontier.length - 1];
  for (let i = frontier.length - 2; i >= 0; i--) r = nodeHash(frontier[i], r);
  return r;
}

function fail(code: ErrorCode, msg: string): never {
  throw new BeepkitError(code, `notification block: ${msg}`);
}

/** Verifies the encoded block that must follow `cursor`; returns it and the advanced cursor. */
export function verifyNotificationBlock(bytes: Uint8Array, cursor: ChainCursor, gatewayPublicKey: Uint8Array): { block: Block; next: ChainCursor } {
  const { block } = decodeBlock(bytes);
  const h = block.header;
  if (h.chain !== 'notification') fail('E_CHAIN', `belongs to chain ${h.chain}`);
  if (h.height !== cursor.height) fail('E_SEQUENCE', `height ${h.height}, expected ${cursor.height}`);
  if (!equalBytes(h.prevHash, cursor.prevHash)) fail('E_CHAIN', `previous hash does not match block ${h.height - 1}`);
  if (h.firstLeafIndex !== cursor.treeSize) fail('E_CHAIN', `first leaf ${h.firstLeafIndex}, expected ${cursor.treeSize}`);
  const keyId = keyIdOf(gatewayPublicKey);
  if (!equalBytes(h.keyId, keyId)) fail('E_KEY', 'signed by another key');
  if (!ed25519Verify(gatewayPublicKey, blockSigningBytes(h), h.signature)) fail('E_SIGNATURE', `header signature of block ${h.height} invalid`);
  const hashes = block.entries.map((e, i) => {
    if (!equalBytes(leafHash(e.data), e.entryHash)) fail('E_CHECKSUM', `entry ${i} does not match its hash`);
    return e.entryHash;
  });
  if (hashes.length !== h.entryCount || !equalBytes(rootOf(hashes), h.entriesRoot)) fail('E_CHECKSUM', 'entries root mismatch');
  const frontier = appendFrontier(cursor.frontier, cursor.treeSize, hashes);
  const treeSize = cursor.treeSize + hashes.length;
  const s = block.sth;
  if (s.chainId !== 'notification' || s.treeSize !== treeSize || s.blockHeight !== h.height || !equalBytes(s.keyId, keyId))
    fail('E_CHAIN', 'tree head fields do not match the block');
  if (!ed25519Verify(gatewayPublicKey, signingBytes(s), s.signature)) fail('E_SIGNATURE', 'tree head signature invalid');
  if (!equalBytes(s.rootHash, frontierRoot(frontier))) fail('E_CHECKSUM', 'tree head root does not match the chain');
  return { block, next: { height: h.height + 1, prevHash: blockHash(h), treeSize, frontier } };
}
