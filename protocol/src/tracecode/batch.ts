/**
 * Upload batch: one pseudonym-day's TraceCodes, signed ONCE by the pseudonym.
 *
 *   u8 version=1 | u32 day | 32 ephemeral X25519 public key
 *   | u16 certLen | certificate | u16 count (1..4096) | count × TraceCode (89 bytes)
 *   | 64 Ed25519 signature over "beepkit/batch/v1" || every byte before it
 *
 * Anyone can verify every record from the batch alone: the certificate names
 * the pseudonym, each record's prefix must equal it, and the signature covers
 * header, certificate and all records. Intervals are unique within a batch.
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, concatBytes, equalBytes } from '../bytes.ts';
import { utf8 } from '../crypto/hash.ts';
import { Ed25519Signer, ed25519Verify } from '../crypto/ed25519.ts';
import { decodeCertificate, verifyCertificate, type Certificate } from '../cert/index.ts';
import { TRACECODE_LEN, TRACECODE_VERSION, decodeTraceCode, intervalAt, type TraceCode } from './code.ts';

export const BATCH_VERSION = 1;
export const MAX_BATCH_RECORDS = 4096;
const SIG_DOMAIN = utf8('beepkit/batch/v1');

export interface BatchBody {
  day: number;
  ephemeralPub: Uint8Array;
  /** Encoded certificate bytes. */
  certificate: Uint8Array;
  /** Encoded TraceCodes. */
  records: Uint8Array[];
}

export interface Batch extends BatchBody {
  version: number;
  signature: Uint8Array;
  /** Decoded records, in order. */
  traceCodes: TraceCode[];
}

export function encodeBatchBody(b: BatchBody): Uint8Array {
  if (b.records.length < 1 || b.records.length > MAX_BATCH_RECORDS) throw new BeepkitError('E_RANGE', `batch: 1..${MAX_BATCH_RECORDS} records`);
  const w = new Writer(64 + b.certificate.length + b.records.length * TRACECODE_LEN + 64);
  w.u8(BATCH_VERSION).u32(b.day).bytes(b.ephemeralPub, 32).vbytes(b.certificate).u16(b.records.length);
  for (const r of b.records) w.bytes(r, TRACECODE_LEN);
  return w.finish();
}

/** Signs a batch with the day's pseudonym seed; returns the full batch bytes. */
export function signBatch(b: BatchBody, signingSeed: Uint8Array | Ed25519Signer): Uint8Array {
  const body = encodeBatchBody(b);
  const signer = signingSeed instanceof Ed25519Signer ? signingSeed : new Ed25519Signer(signingSeed);
  return concatBytes(body, signer.sign(concatBytes(SIG_DOMAIN, body)));
}

/** Encodes a decoded (signed) batch back to bytes. */
export function encodeBatch(b: Batch): Uint8Array {
  return concatBytes(encodeBatchBody(b), new Writer(64).bytes(b.signature, 64).finish());
}

export function decodeBatch(bytes: Uint8Array): Batch {
  return decodeBatchAs(bytes, true);
}

/** decodeBatch without copies: every byte field (records, certificate, signature…) is a view into `bytes`. */
export function decodeBatchView(bytes: Uint8Array): Batch {
  return decodeBatchAs(bytes, false);
}

function decodeBatchAs(bytes: Uint8Array, copy: boolean): Batch {
  const l = scanBatch(bytes);
  const records: Uint8Array[] = [];
  const traceCodes: TraceCode[] = [];
  for (let i = 0, at = l.recordsAt; i < l.count; i++, at += TRACECODE_LEN) {
    const rec = copy ? bytes.slice(at, at + TRACECODE_LEN) : bytes.subarray(at, at + TRACECODE_LEN);
    records.push(rec);
    traceCodes.push(decodeTraceCode(rec, copy));
  }
  const own = (v: Uint8Array) => (copy ? v.slice() : v);
  return {
    version: l.version,
    day: l.day,
    ephemeralPub: own(l.ephemeralPub),
    certificate: own(l.certificate),
    records,
    traceCodes,
    signature: own(l.signature),
  };
}

/** Where a batch's parts are: `count` records of `TRACECODE_LEN` bytes from `recordsAt`; the byte fields are views. */
export interface BatchLayout {
  version: number;
  day: number;
  ephemeralPub: Uint8Array;
  certificate: Uint8Array;
  count: number;
  recordsAt: number;
  signature: Uint8Array;
}

/** One bit per u16 interval: the duplicate check's scratch, all zero between calls. */
const seen = new Uint32Array(65_536 / 32);

/**
 * Checks a batch as `decodeBatch` does (the same errors, in the same order:
 * header, then per record its version and that its interval is new, then the
 * signature and no trailing bytes), without an object per record: for readers
 * that take the records straight from the bytes (gateway ingest). A record's
 * prefix is bytes [1, 33) and its interval the u16 at 33 (code.ts).
 */
export function scanBatch(bytes: Uint8Array): BatchLayout {
  const r = new Reader(bytes, 'batch', false);
  const version = r.u8('version');
  if (version !== BATCH_VERSION) throw new BeepkitError('E_VERSION', `batch: unknown version ${version}`);
  const day = r.u32('day');
  const ephemeralPub = r.bytes(32, 'ephemeralPub');
  const certificate = r.vbytes('certificate');
  const count = r.u16('count');
  if (count < 1 || count > MAX_BATCH_RECORDS) throw new BeepkitError('E_RANGE', `batch: record count ${count} not in 1..${MAX_BATCH_RECORDS}`);
  if (r.remaining < count * TRACECODE_LEN + 64)
    throw new BeepkitError('E_TRUNCATED', `batch: ${count} records need ${count * TRACECODE_LEN + 64} bytes, ${r.remaining} left`);
  const recordsAt = r.offset;
  let i = 0;
  try {
    for (let at = recordsAt; i < count; i++, at += TRACECODE_LEN) {
      if (bytes[at] !== TRACECODE_VERSION) throw new BeepkitError('E_VERSION', `tracecode: unknown version ${bytes[at]}`);
      const interval = intervalAt(bytes, at);
      const bit = 1 << (interval & 31);
      if (seen[interval >>> 5] & bit) throw new BeepkitError('E_FORMAT', `batch: interval ${interval} appears twice`);
      seen[interval >>> 5] |= bit;
    }
  } finally {
    // clear the bits set (an interval met twice was set by its first record)
    for (let j = 0, at = recordsAt; j < i; j++, at += TRACECODE_LEN) seen[intervalAt(bytes, at) >>> 5] = 0;
  }
  r.bytes(count * TRACECODE_LEN, 'records');
  const signature = r.bytes(64, 'signature');
  r.end();
  return { version, day, ephemeralPub, certificate, count, recordsAt, signature };
}

export interface VerifyBatchOptions {
  /** When given, the certificate is verified too (issuer, signature, window, day). */
  caPub?: Uint8Array;
  /** Unix seconds, required with caPub. */
  now?: number;
}

export interface VerifiedBatch {
  batch: Batch;
  certificate: Certificate;
}

/**
 * Checks the pseudonym signature over the whole batch, that the certificate is
 * for the batch's day, and that every record's prefix is the certified pseudonym.
 * Throws E_SIGNATURE / E_CERT (and decode errors); returns the decoded parts.
 */
export function verifyBatch(input: Uint8Array | Batch, opts: VerifyBatchOptions = {}): VerifiedBatch {
  const bytes = input instanceof Uint8Array ? input : encodeBatch(input);
  const batch = decodeBatch(bytes);
  const certificate = decodeCertificate(batch.certificate);
  if (opts.caPub) {
    if (opts.now === undefined) throw new BeepkitError('E_CONFIG', 'verifyBatch: caPub needs now');
    verifyCertificate(certificate, opts.caPub, { now: opts.now, day: batch.day });
  }
  if (certificate.day !== batch.day) throw new BeepkitError('E_CERT', `batch: certificate is for day ${certificate.day}, batch for ${batch.day}`);
  for (const tc of batch.traceCodes) {
    if (!equalBytes(tc.prefix, certificate.subject)) throw new BeepkitError('E_CERT', 'batch: a record prefix is not the certified pseudonym');
  }
  const body = bytes.subarray(0, bytes.length - 64);
  if (!ed25519Verify(certificate.subject, concatBytes(SIG_DOMAIN, body), batch.signature))
    throw new BeepkitError('E_SIGNATURE', 'batch: bad pseudonym signature');
  return { batch, certificate };
}
