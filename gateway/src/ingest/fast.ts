/**
 * Hot-path helpers for ingest, measured in bench/gateway-ingest.ts:
 *
 * - `batchKeys` gives a batch's record hashes (protocol/tracecode `recordHash`:
 *   SHA-256 of "beepkit/record/v1" || record) and claim keys in one pass, with
 *   sha256.ts (no `crypto.hash` call per input: 56 per day batch cost ~19 % of
 *   the main thread, mostly call overhead), all into ONE buffer (the keys are
 *   views into it), reading records and intervals straight from the batch's
 *   bytes (no view or object per record; protocol/tracecode `prefixIs` and
 *   `intervalAt` read a record there).
 *   `recordHashes` / `claimKey` are the one-at-a-time forms over
 *   node:crypto, kept as the reference; parity tested in
 *   gateway/test/ingest-fast.test.ts.
 * - Signed-message buffers are assembled in one reusable scratch buffer
 *   (verification is synchronous), not a fresh concat per message.
 *
 * Certificates are checked with protocol/cert `verifyCertificate` itself (it
 * caches the CA key id and KeyObject), Ed25519 keys come from protocol/crypto
 * `ed25519KeyObject` (a bounded cache of JWK-imported keys).
 */
import { sha256 } from '../ledger/digest.ts';
import { PREFIX_LEN, TRACECODE_LEN } from '@beepkit/protocol/tracecode';
import { sha256Into } from './sha256.ts';

const RECORD_TAG = Buffer.from('beepkit/record/v1');
const CLAIM_TAG = Buffer.from('beepkit/claim/v1');
/** Bytes of a claim key (protocol/SPEC.md, "One record per pseudonym-day and interval"). */
export const CLAIM_KEY_BYTES = 16;

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

/**
 * The claim key of (pseudonym, day, interval): SHA-256("beepkit/claim/v1" ||
 * prefix 32 || u32 day || u16 interval)[0..16]. One ledger key per record beside
 * its record hash, so a second record for the same pseudonym-day and interval,
 * in any later batch and across restarts (keys are rebuilt from the blocks),
 * is refused by the ledger's key uniqueness.
 */
export function claimKey(prefix: Uint8Array, day: number, interval: number): Uint8Array {
  const b = Buffer.allocUnsafe(CLAIM_TAG.length + 38);
  CLAIM_TAG.copy(b, 0);
  b.set(prefix.subarray(0, 32), CLAIM_TAG.length);
  b.writeUInt32BE(day, CLAIM_TAG.length + 32);
  b.writeUInt16BE(interval, CLAIM_TAG.length + 36);
  return sha256(b).subarray(0, CLAIM_KEY_BYTES);
}

/** The claim-key input after the tag: prefix 32 || u32 day || u16 interval. */
const claimIn = new Uint8Array(38);

/**
 * The ledger keys of one batch's `count` records, laid out from `at` in `bytes`
 * (a checked batch, protocol/tracecode `scanBatch`): the record hashes (32
 * bytes each), then the claim keys (`CLAIM_KEY_BYTES` each, the interval read
 * from each record), in record order: the same bytes as `recordHashes` and
 * `claimKey`, computed in one pass into one buffer (every key a view into it).
 */
export function batchKeys(bytes: Uint8Array, at: number, count: number, prefix: Uint8Array, day: number): Uint8Array[] {
  const n = count;
  const out = new Uint8Array(n * (32 + CLAIM_KEY_BYTES));
  const keys: Uint8Array[] = new Array(2 * n);
  claimIn.set(prefix.subarray(0, 32), 0);
  claimIn[32] = day >>> 24;
  claimIn[33] = day >>> 16;
  claimIn[34] = day >>> 8;
  claimIn[35] = day;
  for (let i = 0, r = at; i < n; i++, r += TRACECODE_LEN) {
    const h = i * 32;
    sha256Into(RECORD_TAG, bytes, out, h, 32, r, r + TRACECODE_LEN);
    keys[i] = out.subarray(h, h + 32);
    const c = n * 32 + i * CLAIM_KEY_BYTES;
    claimIn[36] = bytes[r + 1 + PREFIX_LEN];
    claimIn[37] = bytes[r + 2 + PREFIX_LEN];
    sha256Into(CLAIM_TAG, claimIn, out, c, CLAIM_KEY_BYTES);
    keys[n + i] = out.subarray(c, c + CLAIM_KEY_BYTES);
  }
  return keys;
}
