/**
 * Uplink: drains the durable Outbox in signed batches over MQTT.
 *
 * Outbox groups are UTC days: a batch is built from one day's TraceCodes and
 * signed with that day's pseudonym key, carrying the day's certificate. The
 * outbox persists the batch before it is sent, so a re-send (after a timeout,
 * a broker outage or a crash) carries the same bytes and the same correlation
 * id (the first 8 bytes of SHA-256 of the batch); the ledger is idempotent.
 *
 * A batch leaves the outbox only when its Receipt arrived AND verifies
 * (verifyReceipt: gateway STH signature, the batch's entry hash, its one
 * inclusion proof). A receipt that does not verify keeps the batch (counted,
 * backed off, re-sent). ErrorReply codes:
 *   E_EXPIRED, E_CERT  → 'reauthorise' {day, code} once, then park until a new
 *                        certificate for the day arrives (kick()); the batch is
 *                        re-signed with it. Refused again with that new
 *                        certificate → quarantined.
 *   E_RATE             → back off (rateBackoffMs, jittered), retry.
 *   E_DUPLICATE        → the listed records are on the ledger already: delivered.
 *   malformed codes    → quarantine (bytes kept in quarantineDir), 'quarantined';
 *                        E_CONFLICT too (an interval of the day already claimed
 *                        in another batch: re-sending cannot help).
 *   anything else      → back off, retry.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { BeepkitError, equalBytes, toHex } from '@beepkit/protocol';
import { sha256 } from '@beepkit/protocol/merkle';
import { decodeBatch, recordHash, signBatch } from '@beepkit/protocol/tracecode';
import { CORRELATION_ID_BYTES, type UplinkKind, type WireMessage } from '@beepkit/protocol/wire';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';
import { jitteredBackoffMs, type BackoffOptions } from '@beepkit/device-core/infra/backoff';
import type { Batch, Outbox } from '@beepkit/device-core/outbox';
import { verifyReceipt } from './receipt.ts';

/** The uplink's retry backoff: 500 ms doubling to 60 s. */
const UPLINK_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 60_000 };

export const MALFORMED_CODES: ReadonlySet<string> = new Set([
  'E_CONFLICT',
  'E_FORMAT',
  'E_TRUNCATED',
  'E_OVERRUN',
  'E_TRAILING',
  'E_VERSION',
  'E_TYPE',
  'E_RANGE',
  'E_SIGNATURE',
  'E_WINDOW',
]);
const CERT_CODES: ReadonlySet<string> = new Set(['E_EXPIRED', 'E_CERT']);

export interface UplinkTransport {
  request(kind: UplinkKind, m: WireMessage, timeoutMs?: number): Promise<WireMessage>;
  whenConnected(): Promise<void>;
}

/** The day's pseudonym signing seed and ephemeral public key (KeystoreFile.dayKeys fits). */
export type DayKeySource = (day: number) => { signingSeed: Uint8Array; ephemeralPub: Uint8Array };

export interface UplinkOptions {
  outbox: Pick<Outbox, 'nextBatch' | 'ackBatch' | 'ackItems' | 'stats'>;
  mqtt: UplinkTransport;
  dayKeys: DayKeySource;
  /** Certificate bytes per day (CertStore fits; its 'stored' event wakes the uplink). */
  certificates: { get(day: number): Uint8Array | undefined; on?(event: 'stored', fn: () => void): unknown };
  /** The gateway's Ed25519 public key (signs the tree heads), or every gateway shard's (a receipt verifies under the one its tree head names). */
  gatewayPublicKey: Uint8Array | readonly Uint8Array[];
  /** Where quarantined batches are kept. */
  quarantineDir: string;
  /** Upload allowed now? (policy: immediate, charging + WiFi, …). Default always. */
  mayUpload?: () => boolean | Promise<boolean>;
  /** Re-check of mayUpload while it says no (default 60 s). */
  policyPollMs?: number;
  replyTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  rateBackoffMs?: number;
  random?: () => number;
  logger?: Logger;
}

export interface UplinkCounters {
  sent: number;
  delivered: number;
  deliveredItems: number;
  receiptsInvalid: number;
  timeouts: number;
  rateLimited: number;
  duplicatesAsDelivered: number;
  quarantined: number;
  reauthorisations: number;
  retries: number;
}

export class Uplink extends EventEmitter {
  readonly #o: UplinkOptions;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly counters: UplinkCounters = {
    sent: 0,
    delivered: 0,
    deliveredItems: 0,
    receiptsInvalid: 0,
    timeouts: 0,
    rateLimited: 0,
    duplicatesAsDelivered: 0,
    quarantined: 0,
    reauthorisations: 0,
    retries: 0,
  };
  /** ErrorReply codes received, counted. */
  readonly codes: Record<string, number> = {};
  #running = false;
  #loop?: Promise<void>;
  #wake?: () => void;
  #kicked = false;
  #failures = 0;
  /** seq → certificate (hex) the batch was refused with, after 'reauthorise' was emitted. */
  readonly #reauth = new Map<number, string>();
  /** Days without a certificate that 'reauthorise' was emitted for. */
  readonly #missing = new Set<number>();
  #stopSignal: Promise<void> = Promise.resolve();
  #signalStop?: () => void;

  constructor(opts: UplinkOptions) {
    super();
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#random = opts.random ?? Math.random;
    opts.certificates.on?.('stored', () => this.kick());
  }

  async start(): Promise<void> {
    if (this.#running) throw new BeepkitError('E_STATE', 'uplink already started');
    await mkdir(this.#o.quarantineDir, { recursive: true, mode: 0o700 });
    this.#running = true;
    this.#stopSignal = new Promise((resolve) => (this.#signalStop = resolve));
    this.#loop = this.#run().catch((e: unknown) => {
      this.#log.error({ code: (e as { code?: string }).code }, 'uplink: stopped on error');
      this.emit('fatal', e);
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#signalStop?.();
    this.kick();
    await this.#loop;
  }

  /** Wakes the loop: new items were appended, a certificate arrived, the policy changed. */
  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  /** Builds the signed batch bytes of `items` for `day` (the outbox's build callback). */
  build(items: Uint8Array[], day: number): Uint8Array {
    const certificate = this.#o.certificates.get(day);
    if (!certificate) {
      if (!this.#missing.has(day)) {
        this.#missing.add(day);
        this.#askReauth(-1, day, 'E_CERT');
      }
      throw new BeepkitError('E_CERT', `no certificate for day ${day}`);
    }
    this.#missing.delete(day);
    const k = this.#o.dayKeys(day);
    return signBatch({ day, ephemeralPub: k.ephemeralPub, certificate, records: items }, k.signingSeed);
  }

  /** The bytes to send for an open batch: its persisted bytes, re-signed when items left it or the day's certificate changed. */
  payloadOf(b: Batch): Uint8Array {
    const decoded = decodeBatch(b.bytes);
    const cert = this.#o.certificates.get(b.group);
    if (decoded.records.length === b.items.length && (!cert || equalBytes(cert, decoded.certificate))) return b.bytes;
    return this.build(b.items, b.group);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#kicked = false;
      if (this.#o.mayUpload && !(await this.#o.mayUpload())) {
        await this.#sleep(this.#o.policyPollMs ?? 60_000);
        continue;
      }
      let batch: Batch | undefined;
      try {
        batch = await this.#o.outbox.nextBatch((items, day) => this.build(items, day));
      } catch (e) {
        if ((e as { code?: string }).code !== 'E_CERT') throw e;
        await this.#sleep(Infinity); // until a certificate is stored (kick)
        continue;
      }
      if (!batch) {
        this.emit('idle');
        await this.#sleep(Infinity);
        continue;
      }
      if (batch.items.length === 0) {
        await this.#o.outbox.ackBatch(batch.seq);
        continue;
      }
      if (this.#parked(batch)) {
        await this.#sleep(Infinity);
        continue;
      }
      await this.#send(batch);
    }
  }

  /** A batch refused for its certificate stays parked until the store holds another one. */
  #parked(b: Batch): boolean {
    const refused = this.#reauth.get(b.seq);
    const cert = this.#o.certificates.get(b.group);
    return refused !== undefined && (!cert || toHex(cert) === refused);
  }

  async #send(b: Batch): Promise<void> {
    const payload = this.payloadOf(b);
    const correlationId = sha256(payload).slice(0, CORRELATION_ID_BYTES);
    try {
      await Promise.race([this.#o.mqtt.whenConnected(), this.#stopSignal]);
      if (!this.#running) return;
      this.counters.sent++;
      const request = this.#o.mqtt.request('uplink-batch', { type: 'upload-batch', correlationId, batch: payload }, this.#o.replyTimeoutMs ?? 30_000);
      request.catch(() => {}); // settled later when stop() wins the race
      const reply = await Promise.race([request, this.#stopSignal.then(() => undefined)]);
      if (!reply || !this.#running) return; // stopping: the batch stays open, re-sent at the next start
      await this.#onReply(b, payload, reply);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'E_STOPPED' || !this.#running) return;
      if (code === 'E_TIMEOUT') this.counters.timeouts++;
      else this.#log.warn({ code }, 'uplink: send failed');
      await this.#backoff();
    }
  }

  async #onReply(b: Batch, payload: Uint8Array, reply: WireMessage): Promise<void> {
    if (reply.type === 'receipt') {
      const check = verifyReceipt(reply, payload, this.#o.gatewayPublicKey);
      if (!check.ok) {
        this.counters.receiptsInvalid++;
        this.#log.warn({ seq: b.seq, reason: check.reason }, 'uplink: receipt does not verify; batch kept');
        this.emit('receipt-invalid', { seq: b.seq, reason: check.reason });
        await this.#backoff();
        return;
      }
      const n = await this.#o.outbox.ackBatch(b.seq);
      this.#delivered(b, n, check.sth.treeSize);
      return;
    }
    if (reply.type !== 'error') {
      this.#log.warn({ type: reply.type }, 'uplink: unexpected reply type');
      await this.#backoff();
      return;
    }
    const code = reply.code;
    this.codes[code] = (this.codes[code] ?? 0) + 1;
    if (code === 'E_DUPLICATE') {
      const pending = new Set(b.items.map((x) => toHex(recordHash(x))));
      const listed = reply.recordHashes.filter((h) => pending.has(toHex(h)));
      this.counters.duplicatesAsDelivered += listed.length;
      const n = listed.length === b.items.length ? await this.#o.outbox.ackBatch(b.seq) : await this.#o.outbox.ackItems(listed);
      if (listed.length === 0) await this.#backoff();
      else this.#delivered(b, n);
      return;
    }
    if (code === 'E_RATE') {
      this.counters.rateLimited++;
      const base = this.#o.rateBackoffMs ?? 60_000;
      await this.#sleep(base / 2 + (this.#random() * base) / 2);
      return;
    }
    if (CERT_CODES.has(code)) {
      const cert = decodeBatch(payload).certificate;
      if (this.#reauth.has(b.seq) && this.#reauth.get(b.seq) !== toHex(cert)) return this.#quarantine(b, payload, code, reply.message);
      this.#askReauth(b.seq, b.group, code, cert);
      return;
    }
    if (MALFORMED_CODES.has(code)) return this.#quarantine(b, payload, code, reply.message);
    this.#log.warn({ code, seq: b.seq }, 'uplink: gateway error; retrying later');
    await this.#backoff();
  }

  #delivered(b: Batch, items: number, treeSize?: number): void {
    this.#failures = 0;
    this.#reauth.delete(b.seq);
    this.counters.delivered++;
    this.counters.deliveredItems += items;
    this.emit('delivered', { seq: b.seq, day: b.group, items, treeSize });
  }

  #askReauth(seq: number, day: number, code: string, cert?: Uint8Array): void {
    if (seq >= 0 && cert) this.#reauth.set(seq, toHex(cert));
    this.counters.reauthorisations++;
    this.#log.warn({ day, code }, 'uplink: certificate refused or missing; re-authorisation needed');
    this.emit('reauthorise', { day, code });
  }

  async #quarantine(b: Batch, payload: Uint8Array, code: string, message: string): Promise<void> {
    const path = join(this.#o.quarantineDir, `${b.seq}-${code}.batch`);
    await writeFileAtomic(path, payload);
    await this.#o.outbox.ackBatch(b.seq);
    this.#reauth.delete(b.seq);
    this.counters.quarantined++;
    this.#log.warn({ seq: b.seq, code, items: b.items.length }, 'uplink: batch refused as malformed; quarantined');
    this.emit('quarantined', { seq: b.seq, day: b.group, code, message, path, items: b.items.length });
  }

  async #backoff(): Promise<void> {
    this.counters.retries++;
    const delay = jitteredBackoffMs(this.#failures, this.#o.backoff, UPLINK_BACKOFF, this.#random);
    this.#failures++;
    await this.#sleep(delay, false);
  }

  /** Sleeps `ms` (Infinity: until kicked); a kick ends it unless `kickable` is false (only stop() does then). */
  #sleep(ms: number, kickable = true): Promise<void> {
    if (!this.#running || (kickable && this.#kicked)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this.#wake = kickable
        ? done
        : () => {
            if (!this.#running) done();
          };
    });
  }
}
