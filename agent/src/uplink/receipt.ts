/**
 * Receipt verification (pure): a batch counts as delivered only when the
 * gateway's signed tree head verifies with its configured public key and
 * every record of the batch has an inclusion proof of the batch's ledger
 * entry (RFC 9162 leaf hash of the exact batch bytes) in that tree.
 */
import { equalBytes, toHex } from '@beepkit/protocol';
import { ed25519Verify } from '@beepkit/protocol/crypto';
import { decodeSth, keyIdOf, leafHash, signingBytes, verifyInclusion, type SignedTreeHead } from '@beepkit/protocol/merkle';
import type { Receipt } from '@beepkit/protocol/wire';

export type ReceiptCheck = { ok: true; sth: SignedTreeHead } | { ok: false; reason: string };

/**
 * Checks `receipt` for the batch `batchBytes` whose records have the hashes
 * `ids`: STH decodes, is for the tracing chain, carries the gateway's key id
 * and signature; the receipt lists exactly `ids`; each proof verifies.
 */
export function verifyReceipt(receipt: Receipt, batchBytes: Uint8Array, ids: readonly Uint8Array[], gatewayPublicKey: Uint8Array): ReceiptCheck {
  let sth: SignedTreeHead;
  try {
    sth = decodeSth(receipt.signedTreeHead);
  } catch (e) {
    return { ok: false, reason: `tree head does not decode (${(e as { code?: string }).code ?? 'E_FORMAT'})` };
  }
  if (sth.chainId !== 'tracing') return { ok: false, reason: `tree head of chain ${sth.chainId}` };
  if (!equalBytes(sth.keyId, keyIdOf(gatewayPublicKey))) return { ok: false, reason: 'tree head signed by another key' };
  if (!ed25519Verify(gatewayPublicKey, signingBytes(sth), sth.signature)) return { ok: false, reason: 'tree head signature invalid' };
  const want = new Set(ids.map(toHex));
  const got = new Set(receipt.records.map((r) => toHex(r.recordHash)));
  if (got.size !== want.size || [...want].some((h) => !got.has(h))) return { ok: false, reason: `receipt lists ${got.size} records, the batch has ${want.size}` };
  const leaf = leafHash(batchBytes);
  for (const r of receipt.records) {
    if (!verifyInclusion(leaf, r.leafIndex, sth.treeSize, r.proof, sth.rootHash)) return { ok: false, reason: `inclusion proof of record ${toHex(r.recordHash).slice(0, 16)} does not verify` };
  }
  return { ok: true, sth };
}
