// Shared helpers of the ledger tests (not a test file itself).
import { createHash } from 'node:crypto';
import { ed25519Signer } from '../src/ledger/index.ts';
import type { AppendInput, AppendResult, Receipt } from '../src/ledger/index.ts';

/** A deterministic gateway key for tests. */
export const testSigner = ed25519Signer(new Uint8Array(32).fill(7));

/** An entry of `n` pseudo TraceCodes (~100 B each), keys = SHA-256 of each. */
export function batch(seed: string, n = 4): AppendInput {
  const recs = Array.from({ length: n }, (_, i) => createHash('sha512').update(`${seed}/${i}`).digest().subarray(0, 100));
  return { data: new Uint8Array(Buffer.concat(recs)), keys: recs.map((r) => new Uint8Array(createHash('sha256').update(r).digest())) };
}

export function isReceipt(r: AppendResult): r is Receipt {
  return !('error' in r);
}

export function receiptOf(r: AppendResult): Receipt {
  if (!isReceipt(r)) throw new Error(`expected a receipt, got ${r.error.code}`);
  return r;
}
