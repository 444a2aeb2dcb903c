/**
 * Receipt verification (pure): a batch counts as delivered only when the
 * gateway's signed tree head verifies with its configured public key and the
 * receipt's ONE inclusion proof places the batch's ledger entry (RFC 9162 leaf
 * hash of the exact batch bytes, which hold every record of the batch) in that
 * tree. The records need no proof of their own: they are inside the entry.
 */
import { equalBytes } from '@beepkit/protocol';
import { ed25519Verify } from '@beepkit/protocol/crypto';
import { decodeSth, keyIdOf, leafHash, signingBytes, verifyInclusion, type SignedTreeHead } from '@beepkit/protocol/merkle';
import type { Receipt } from '@beepkit/protocol/wire';

export type ReceiptCheck = { ok: true; sth: SignedTreeHead } | { ok: false; reason: string };

/**
 * Checks `receipt` for the batch `batchBytes` (as sent): STH decodes, is for
 * the tracing chain, carries the key id and signature of the gateway key, or of
 * one of the gateway keys (several gateways: each log shard signs its own
 * receipts, gateway/README.md "Several gateways"); the receipt names this
 * batch's entry hash; its inclusion proof verifies.
 */
export function verifyReceipt(receipt: Receipt, batchBytes: Uint8Array, gatewayKeys: Uint8Array | readonly Uint8Array[]): ReceiptCheck {
  let sth: SignedTreeHead;
  try {
    sth = decodeSth(receipt.signedTreeHead);
  } catch (e) {
    return { ok: false, reason: `tree head does not decode (${(e as { code?: string }).code ?? 'E_FORMAT'})` };
  }
  if (sth.chainId !== 'tracing') return { ok: false, reason: `tree head of chain ${sth.chainId}` };
  const gatewayPublicKey = (gatewayKeys instanceof Uint8Array ? [gatewayKeys] : gatewayKeys).find((k) => equalBytes(sth.keyId, keyIdOf(k)));
  if (!gatewayPublicKey) return { ok: false, reason: 'tree head signed by another key' };
  if (!ed25519Verify(gatewayPublicKey, signingBytes(sth), sth.signature)) return { ok: false, reason: 'tree head signature invalid' };
  const leaf = leafHash(batchBytes);
  if (!equalBytes(receipt.entryHash, leaf)) return { ok: false, reason: 'receipt is for another ledger entry than this batch' };
  if (!verifyInclusion(leaf, receipt.leafIndex, sth.treeSize, receipt.proof, sth.rootHash))
    return { ok: false, reason: `inclusion proof of entry ${receipt.leafIndex} does not verify` };
  return { ok: true, sth };
}
