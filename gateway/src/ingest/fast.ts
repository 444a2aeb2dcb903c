/**
 * Hot-path helpers for ingest, measured in bench/gateway-ingest.ts:
 *
 * - `recordHashes` is protocol/tracecode `recordHash` (SHA-256 of
 *   "beepkit/record/v1" || record) over one-shot `crypto.hash` (no Hash object
 *   per record); parity tested in gateway/test/ingest-fast.test.ts.
 * - Signed-message buffers are assembled in one reusable scratch buffer
 *   (verification is synchronous), not a fresh concat per message.
 *
 * Certificates are checked with protocol/cert `verifyCertificate` itself (it
 * caches the CA key id and KeyObject), Ed25519 keys come from protocol/crypto
 * `ed25519KeyObject` (a bounded cache of JWK-imported keys).
 */
import { sha256 } from '../ledger/digest.ts';

const RECORD_TAG = Buffer.from('beepkit/record/v1');

/** A growable scratch buffer: `domain || body` without a fresh allocation per message. */
export class Scratch {
  #buf = Buffer.allocUnsafe(4096);
  /** The bytes `prefix || body`, valid until the next call. */
  join(prefix: Buffer, body: Uint8Array): Buffer {
    const n = prefix.length + body.length;
    if (this.#buf.length < n) this.#buf = Buffer.allocUnsafe(Math.max(n, this.#buf.length * 2));
    prefix.copy(this.#buf, 0);
    this.#buf.set(body, prefix.length);
    return this.#buf.subarray(0, n);
  }
}

/** protocol/tracecode `recordHash` of each record, one-shot SHA-256 each. */
export function recordHashes(records: Uint8Array[], scratch: Scratch): Uint8Array[] {
  return records.map((r) => sha256(scratch.join(RECORD_TAG, r)));
}
