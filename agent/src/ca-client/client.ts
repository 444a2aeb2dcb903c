/**
 * CA client: sends a CaRequest on `dev/<id>/up/ca`, awaits the CaResponse with
 * the same correlation id (timeout), verifies the certificate against the
 * configured CA public key (issuer, signature, validity now, the requested
 * day, role device, subject = the requested pseudonym) and the solver key id,
 * then stores it durably for its day. Nothing unverified is ever stored.
 */
import { randomBytes } from 'node:crypto';
import { BeepkitError, equalBytes, remoteError } from '@beepkit/protocol';
import { keyId, verifyCertificate } from '@beepkit/protocol/cert';
import { CORRELATION_ID_BYTES, type CaRequest, type UplinkKind, type WireMessage } from '@beepkit/protocol/wire';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import { buildCaRequest, type CaRequestSigner, type EvidenceBundle } from '../trust/index.ts';
import type { CertStore, StoredCertificate } from './store.ts';
import { hostNow } from '@beepkit/protocol/clock';

/** The request/reply half of the agent's MQTT client. */
export interface RequestTransport {
  request(kind: UplinkKind, m: WireMessage, timeoutMs?: number): Promise<WireMessage>;
}

export interface CaClientOptions {
  mqtt: RequestTransport;
  store: CertStore;
  /** Only certificates signed by this CA key are accepted. */
  caPublicKey: Uint8Array;
  /** Clock, ms (default Date.now). */
  now: () => number;
  timeoutMs?: number;
  /** Correlation ids (default crypto random). */
  correlationId?: () => Uint8Array;
  logger?: Logger;
}

export class CaClient {
  readonly #o: CaClientOptions;
  readonly #log: Logger;
  readonly counters = { requests: 0, issued: 0, refused: 0, rejected: 0, timeouts: 0 };
  /** Codes of refusals and rejections, counted. */
  readonly codes: Record<string, number> = {};

  constructor(opts: CaClientOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Builds the signed request from the trust module's evidence and exchanges it. */
  authorise(evidence: EvidenceBundle, signer: CaRequestSigner, extra?: Uint8Array): Promise<StoredCertificate> {
    const cid = this.#o.correlationId?.() ?? new Uint8Array(randomBytes(CORRELATION_ID_BYTES));
    return this.exchange(buildCaRequest(evidence, signer, cid, extra));
  }

  /** Sends `req`, verifies the answer and stores the certificate. Throws the CA's or the check's code. */
  async exchange(req: CaRequest): Promise<StoredCertificate> {
    this.counters.requests++;
    let reply: WireMessage;
    try {
      reply = await this.#o.mqtt.request('ca-request', req, this.#o.timeoutMs ?? 30_000);
    } catch (e) {
      if ((e as { code?: string }).code === 'E_TIMEOUT') this.counters.timeouts++;
      throw e;
    }
    if (reply.type === 'error') throw this.#fail('refused', reply.code, `CA error: ${reply.message}`);
    if (reply.type !== 'ca-response') throw this.#fail('rejected', 'E_TYPE', `expected a ca-response, got ${reply.type}`);
    const r = reply.result;
    if (!r.ok) throw this.#fail('refused', r.code, `CA refused: ${r.message}`);
    const nowS = Math.floor((this.#o.now ?? hostNow)() / 1000);
    let certSolverKeyId: Uint8Array;
    try {
      certSolverKeyId = verifyCertificate(r.certificate, this.#o.caPublicKey, {
        now: nowS,
        day: req.day,
        role: 'device',
        subject: req.pseudonymPublicKey,
      }).solverKeyId;
    } catch (e) {
      throw this.#fail('rejected', (e as { code?: string }).code ?? 'E_CERT', `certificate rejected: ${(e as Error).message}`);
    }
    if (!equalBytes(keyId(r.solverPublicKey), r.solverKeyId) || !equalBytes(certSolverKeyId, r.solverKeyId)) {
      throw this.#fail('rejected', 'E_KEY', 'solver key id does not match the solver key or the certificate');
    }
    const stored: StoredCertificate = { day: req.day, certificate: r.certificate, solverPublicKey: r.solverPublicKey, solverKeyId: r.solverKeyId };
    await this.#o.store.put(stored);
    this.counters.issued++;
    this.#log.info({ day: req.day }, 'ca-client: certificate stored');
    return stored;
  }

  #fail(kind: 'refused' | 'rejected', code: string, message: string): BeepkitError {
    this.counters[kind]++;
    this.codes[code] = (this.codes[code] ?? 0) + 1;
    this.#log.warn({ code, kind }, 'ca-client: no certificate');
    return remoteError(code, message);
  }
}
