/**
 * Ingest of UploadBatch messages: verify, strip, append, receipt.
 *
 * `Ingest.handle(payload)` takes ONLY the payload bytes: no topic, client id,
 * username or address ever reaches this module, so none can reach the ledger.
 * The ledger entry is exactly the signed batch bytes; its keys are the record
 * hashes (idempotency and E_DUPLICATE per TraceCode).
 *
 * Checks, synchronous but for the batch signature (so verification of the next
 * messages overlaps the group commit in flight): envelope + batch decode (zero-copy views into the
 * payload); certificate (protocol/cert `verifyCertificate`: our CA, role
 * device, the batch's day, valid now; cached per pseudonym-day once verified);
 * every prefix is the certified pseudonym; intervals inside the day and not in
 * the future beyond `maxSkewSec`; ONE Ed25519 verify per batch (node:crypto,
 * on `verifyWorkers` worker threads, verify-pool.ts, or inline when 0); per
 * pseudonym-day rate limit (records). Record hashes and claim keys: fast.ts
 * `batchKeys` (one pass, one buffer).
 * One record per pseudonym-day and interval (protocol/SPEC.md): each record adds
 * its claim key to the ledger beside its record hash, so a record for an
 * interval already claimed in another batch is refused, E_CONFLICT, also after
 * a restart (the ledger rebuilds its keys from the blocks). Batches may
 * reach the ledger in another order than they arrived: nothing depends on it
 * (keys are per record, the ledger is idempotent), and each is acknowledged
 * only after its own durable append.
 * Then one `ledger.append` per batch; concurrent calls share a block + fsync.
 *
 * Result: `ack: true` with a Receipt (durable; ONE inclusion proof of the batch's
 * ledger entry, not one per record) or a coded ErrorReply (the bad
 * message is acknowledged so it is not redelivered forever); `ack: false` only
 * when the ledger could not make it durable (the broker redelivers).
 */
import os from 'node:os';
import { BeepkitError, equalBytes, isBeepkitError, toHex } from '@beepkit/protocol';
import { decodeCertificate, keyId as certKeyId, verifyCertificate, type Certificate } from '@beepkit/protocol/cert';
import { ed25519Verify, type Ed25519Signer } from '@beepkit/protocol/crypto';
import { TRACECODE_LEN, intervalAt, prefixIs, scanBatch } from '@beepkit/protocol/tracecode';
import { encodeSth } from '@beepkit/protocol/merkle';
import { decodeMessage, encodeMessage, CORRELATION_ID_BYTES } from '@beepkit/protocol/wire';
import { silentLogger } from '../broker/log.ts';
import type { AppendResult, Ledger, Logger, Receipt as LedgerReceipt } from '../ledger/types.ts';
import { RateLimiter, type RateOptions } from './rate.ts';
import { Scratch, batchKeys } from './fast.ts';
import { VerifyPool } from './verify-pool.ts';
import { hostNow } from '@beepkit/protocol/clock';

export { RateLimiter, type RateOptions } from './rate.ts';
export { VerifyPool, type VerifyPoolOptions } from './verify-pool.ts';
export { batchKeys } from './fast.ts';

const SIG_DOMAIN = Buffer.from('beepkit/batch/v1');
const DAY_S = 86_400;
const ZERO_CID = new Uint8Array(CORRELATION_ID_BYTES);

export interface IngestOptions {
  ledger: Pick<Ledger, 'append' | 'getByKey'>;
  /** The CA's Ed25519 public key: only its certificates are accepted. */
  caPublicKey: Uint8Array;
  /**
   * The CA's signing key when this process is the CA (the gateway): a certificate is then checked by re-signing
   * its body and comparing (Ed25519 is deterministic), one signature instead of a verify; any other signature
   * is verified as usual (protocol/cert `verifyCertificate`, `issuer`).
   */
  caSigner?: Ed25519Signer;
  /** Clock in ms (default Date.now). */
  now: () => number;
  /** Tolerated clock skew into the future (default 300 s). */
  maxSkewSec?: number;
  /** TraceCode interval length the agents use (default 1800 s; must divide a day). */
  intervalSeconds?: number;
  /** Records per pseudonym-day: burst and refill (default 4096 burst, 1/s). */
  rate?: RateOptions;
  /** Verified certificates kept (default 100 000). */
  certCacheSize?: number;
  /**
   * Worker threads verifying batch signatures in parallel with the main
   * thread (default: cores − 1, at least 1); 0 verifies inline on the main thread.
   */
  verifyWorkers?: number;
  logger?: Logger;
}

export interface IngestResult {
  /** Acknowledge the MQTT message (false only when the append was not durable). */
  ack: boolean;
  /** 'OK' (appended now), 'DUPLICATE' (a replay of a batch already on the ledger: its original receipt) or the error code (E_CONFLICT: an interval already claimed). */
  code: string;
  /** Records in the batch (0 when it did not decode). */
  records: number;
  /** Encoded Receipt or ErrorReply for the device's reply topic (absent when not acked). */
  reply?: Uint8Array;
}

interface CachedCert {
  cert: Certificate;
  /** Rate-limit key: pseudonym (hex) and day. */
  rateKey: string;
}

/** What the synchronous checks leave for the signature check. */
interface Prechecked {
  correlationId: Uint8Array;
  data: Uint8Array;
  body: Uint8Array;
  signature: Uint8Array;
  /** The records: `count` × TRACECODE_LEN bytes of `data` from `recordsAt`. */
  recordsAt: number;
  count: number;
  day: number;
  cc: CachedCert;
  nowMs: number;
}

interface Checked {
  correlationId: Uint8Array;
  data: Uint8Array;
  /** Records in the batch. */
  count: number;
  /** The ledger keys: `count` record hashes, then as many claim keys (pseudonym, day, interval), in record order. */
  keys: Uint8Array[];
}

export function errorReply(correlationId: Uint8Array, code: string, message: string, recordHashes: Uint8Array[] = []): Uint8Array {
  return encodeMessage({ type: 'error', correlationId, code, message: message.slice(0, 500), recordHashes });
}

/** The wire Receipt of a batch from its ledger receipt: one inclusion proof for the batch (one ledger entry). */
export function receiptReply(correlationId: Uint8Array, r: LedgerReceipt): Uint8Array {
  return encodeMessage({
    type: 'receipt',
    correlationId,
    entryHash: r.entryHash,
    leafIndex: r.leafIndex,
    blockHeight: r.blockHeight,
    proof: r.inclusionProof,
    signedTreeHead: encodeSth(r.sth),
  });
}

/**
 * The correlation id to echo in a reply (SPEC.md §5.3): bytes 4..12 of the
 * payload whenever its 12-byte header is there, even when the magic, version
 * or type is wrong; zeros only for a payload shorter than 12 bytes.
 */
export function correlationOf(payload: Uint8Array): Uint8Array {
  if (payload.length < 4 + CORRELATION_ID_BYTES) return ZERO_CID;
  return payload.slice(4, 4 + CORRELATION_ID_BYTES);
}

/** A BeepkitError's code, or E_INTERNAL for anything else (a bug, never a crash). */
export function codeOf(e: unknown): string {
  return isBeepkitError(e) && /^E_[A-Z0-9_]{1,62}$/.test(e.code) ? e.code : 'E_INTERNAL';
}

export class Ingest {
  readonly #o: IngestOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #rate: RateLimiter;
  readonly #certs = new Map<string, CachedCert>();
  readonly #skew: number;
  readonly #interval: number;
  readonly #perDay: number;
  readonly #scratch = new Scratch();
  /** First record hash (hex) -> batch bytes of the appends in flight (replay detection). */
  readonly #inflight = new Map<string, Uint8Array>();
  readonly #pool: VerifyPool | undefined;
  readonly #workers: number;
  readonly #caKeyId: Uint8Array;

  constructor(opts: IngestOptions) {
    this.#o = opts;
    this.#caKeyId = certKeyId(opts.caPublicKey);
    this.#now = opts.now ?? hostNow;
    this.#log = opts.logger ?? silentLogger;
    this.#rate = new RateLimiter(opts.rate ?? { burst: 4096, perSecond: 1 });
    this.#skew = opts.maxSkewSec ?? 300;
    this.#interval = opts.intervalSeconds ?? 1800;
    if (!Number.isInteger(this.#interval) || this.#interval < 60 || DAY_S % this.#interval !== 0) {
      throw new BeepkitError('E_CONFIG', `ingest: intervalSeconds ${this.#interval} must divide a day and be ≥ 60`);
    }
    this.#perDay = DAY_S / this.#interval;
    const workers = opts.verifyWorkers ?? Math.max(1, os.availableParallelism() - 1);
    if (!Number.isInteger(workers) || workers < 0) throw new BeepkitError('E_CONFIG', `ingest: verifyWorkers ${workers} must be an integer ≥ 0`);
    this.#workers = workers;
    this.#pool = workers > 0 ? new VerifyPool({ workers }) : undefined;
  }

  /** Verify workers in use: 0 when verifying inline. */
  get verifyWorkers(): number {
    return this.#workers;
  }

  /** Stops the verify workers (idle ones also stop by themselves); later batches are verified inline. */
  async stop(): Promise<void> {
    await this.#pool?.stop();
  }

  /**
   * A device certificate this gateway's CA just issued (its own signature over
   * exactly these bytes): cached as if verified, so the day's batches under it
   * cost no CA-signature check (one Ed25519 verify per pseudonym-day, ~40 % of
   * a day batch's CPU). Validity window and day are still checked per batch;
   * the cache is bounded (`certCacheSize`, oldest out first) and in memory only
   * (after a restart the first batch verifies as before).
   */
  rememberIssued(cert: Certificate): void {
    if (cert.role !== 'device' || !equalBytes(cert.issuerKeyId, this.#caKeyId)) return;
    this.#remember(Buffer.from(cert.bytes.buffer, cert.bytes.byteOffset, cert.bytes.length).toString('latin1'), cert);
  }

  #remember(id: string, cert: Certificate): CachedCert {
    const entry = { cert, rateKey: `${toHex(cert.subject)}:${cert.day}` };
    if (this.#certs.size >= (this.#o.certCacheSize ?? 100_000)) this.#certs.delete(this.#certs.keys().next().value!);
    this.#certs.set(id, entry);
    return entry;
  }

  /** Verifies and appends one UploadBatch payload. Never throws. */
  async handle(payload: Uint8Array): Promise<IngestResult> {
    let c: Checked;
    try {
      c = await this.check(payload);
    } catch (e) {
      const code = codeOf(e);
      if (code === 'E_INTERNAL') this.#log.error({ err: String(e) }, 'ingest: unexpected error');
      return { ack: true, code, records: 0, reply: errorReply(correlationOf(payload), code, (e as Error)?.message ?? 'rejected') };
    }
    // A replay (the same batch bytes already on the ledger, or in flight here) gets its original receipt
    // and is counted as DUPLICATE, not OK: the ledger holds it once.
    const key = toHex(c.keys[0]);
    const pending = this.#inflight.get(key);
    if (pending === undefined) this.#inflight.set(key, c.data); // before any await: a concurrent copy sees it
    const replay = pending !== undefined ? equalBytes(pending, c.data) : await this.#onLedger(c);
    let r: AppendResult;
    try {
      [r] = await this.#o.ledger.append('tracing', [{ data: c.data, keys: c.keys }]);
    } catch (e) {
      this.#log.warn({ code: codeOf(e) }, 'ingest: append failed, not acknowledged');
      return { ack: false, code: 'E_IO', records: c.count };
    } finally {
      if (pending === undefined) this.#inflight.delete(key);
    }
    if ('error' in r) {
      if (r.error.code !== 'E_DUPLICATE') return { ack: false, code: r.error.code, records: c.count };
      const hashes = c.keys.slice(0, c.count);
      const claims = c.keys.slice(c.count);
      const dup = await this.#present(hashes);
      if (dup.length)
        return {
          ack: true,
          code: 'E_DUPLICATE',
          records: c.count,
          reply: errorReply(c.correlationId, 'E_DUPLICATE', 'records already on the ledger in another batch', dup),
        };
      const taken = await this.#present(claims);
      const conflicting = hashes.filter((_, i) => taken.includes(claims[i]));
      return {
        ack: true,
        code: 'E_CONFLICT',
        records: c.count,
        reply: errorReply(
          c.correlationId,
          'E_CONFLICT',
          `${conflicting.length} record(s) claim an interval this pseudonym already claimed in another batch`,
          conflicting,
        ),
      };
    }
    return { ack: true, code: replay ? 'DUPLICATE' : 'OK', records: c.count, reply: receiptReply(c.correlationId, r) };
  }

  /** Is this exact batch already on the ledger? */
  async #onLedger(c: Checked): Promise<boolean> {
    try {
      const e = await this.#o.ledger.getByKey('tracing', c.keys[0]);
      return e !== undefined && equalBytes(e.data, c.data);
    } catch {
      return false;
    }
  }

  async #present(hashes: Uint8Array[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const h of hashes) {
      try {
        if (await this.#o.ledger.getByKey('tracing', h)) out.push(h);
      } catch {
        out.push(h);
      }
    }
    return out;
  }

  /**
   * Every check; rejects with a BeepkitError carrying the rejection code. All
   * but the batch signature are synchronous; the signature is verified by the
   * pool (in parallel with other batches and the main thread's work) or
   * inline. The rate limit is taken only once the signature holds.
   */
  async check(payload: Uint8Array): Promise<Checked> {
    const p = this.#precheck(payload);
    const subject = p.cc.cert.subject;
    const ok = this.#pool
      ? await this.#pool.verify(subject, SIG_DOMAIN, p.body, p.signature)
      : ed25519Verify(subject, this.#scratch.join(SIG_DOMAIN, p.body), p.signature);
    if (!ok) throw new BeepkitError('E_SIGNATURE', 'bad pseudonym signature over the batch');
    if (!this.#rate.take(p.cc.rateKey, p.nowMs, p.count)) {
      throw new BeepkitError('E_RATE', 'too many records for this pseudonym today; retry later');
    }
    const keys = batchKeys(p.data, p.recordsAt, p.count, subject, p.day);
    return { correlationId: p.correlationId, data: p.data, count: p.count, keys };
  }

  /** The synchronous checks: decode (zero-copy; records checked in place, no object per record), certificate, prefixes, time windows. */
  #precheck(payload: Uint8Array): Prechecked {
    const m = decodeMessage(payload, { copy: false });
    if (m.type !== 'upload-batch') throw new BeepkitError('E_TYPE', `expected upload-batch, got ${m.type}`);
    const bytes = m.batch;
    const batch = scanBatch(bytes);
    const nowMs = this.#now();
    const nowS = Math.floor(nowMs / 1000);
    const cc = this.#cert(batch.certificate, batch.day, nowS);
    const subject = cc.cert.subject;
    const dayStart = batch.day * DAY_S;
    if (dayStart > nowS + this.#skew) throw new BeepkitError('E_WINDOW', `batch day ${batch.day} is in the future`);
    for (let i = 0, at = batch.recordsAt; i < batch.count; i++, at += TRACECODE_LEN) {
      if (!prefixIs(bytes, at, subject)) throw new BeepkitError('E_CERT', 'a record prefix is not the certified pseudonym');
      const interval = intervalAt(bytes, at);
      if (interval >= this.#perDay) throw new BeepkitError('E_WINDOW', `interval ${interval} outside the day (${this.#perDay} intervals)`);
      if (dayStart + interval * this.#interval > nowS + this.#skew) throw new BeepkitError('E_WINDOW', `interval ${interval} is in the future`);
    }
    return {
      correlationId: m.correlationId,
      data: bytes,
      body: bytes.subarray(0, bytes.length - 64),
      signature: batch.signature,
      recordsAt: batch.recordsAt,
      count: batch.count,
      day: batch.day,
      cc,
      nowMs,
    };
  }

  /** The certificate's checked entry; cached by its exact bytes, so a hit costs no decode and no verify. */
  #cert(certBytes: Uint8Array, day: number, nowS: number): CachedCert {
    const id = Buffer.from(certBytes.buffer, certBytes.byteOffset, certBytes.length).toString('latin1');
    const hit = this.#certs.get(id);
    if (hit) {
      const c = hit.cert;
      if (nowS < c.notBefore || nowS > c.notAfter) throw new BeepkitError('E_EXPIRED', 'certificate not valid now');
      if (c.day !== day) throw new BeepkitError('E_CERT', `certificate: for day ${c.day}, not ${day}`);
      return hit;
    }
    const cert = verifyCertificate(decodeCertificate(certBytes), this.#o.caPublicKey, { now: nowS, day, role: 'device', issuer: this.#o.caSigner });
    return this.#remember(id, cert);
  }
}
