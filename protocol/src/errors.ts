/**
 * The one typed error of beepkit. Every decoder and verifier throws only this
 * (or a subclass), with a stable `code` that callers switch on and count.
 *
 * `ERROR_CODES` is the closed registry: a code outside it fails typecheck, and
 * each one is documented (one line) in protocol/README.md, "Error codes"
 * (test/errors.test.ts checks both ways, and that every `'E_…'` literal in the
 * repository's production source is registered). The codes that travel on the
 * wire (ErrorReply, a refused CaResponse, a carer `abort`) are SPEC.md §13.1's;
 * a receiver keeps an unknown one as `E_UNKNOWN` (see `errorCodeOf`).
 */
export const ERROR_CODES = [
  // decoding
  'E_TRUNCATED',
  'E_OVERRUN',
  'E_TRAILING',
  'E_FORMAT',
  'E_RANGE',
  'E_VERSION',
  'E_TYPE',
  'E_HCI',
  'E_SCHEMA',
  'E_FILE_TYPE',
  'E_TRACE',
  // verification and keys
  'E_CHECKSUM',
  'E_SIGNATURE',
  'E_DECRYPT',
  'E_EXPIRED',
  'E_REPLAY',
  'E_CERT',
  'E_KEY',
  'E_CHAIN',
  'E_SEQUENCE',
  // gateway refusals (SPEC.md §13.1)
  'E_WINDOW',
  'E_RATE',
  'E_DUPLICATE',
  'E_CONFLICT',
  'E_DENIED',
  'E_EXISTS',
  'E_NOT_FOUND',
  'E_STALE',
  'E_TRUST_GNSS',
  'E_TRUST_FRAME',
  'E_TRUST_DISTANCE',
  'E_STATE',
  'E_IO',
  'E_INTERNAL',
  'E_UNKNOWN',
  // location and time trust on the device
  'E_TRUST_NO_FIX',
  'E_TRUST_SINGLE_SOURCE',
  'E_TRUST_STALE',
  'E_TRUST_DISAGREE',
  'E_TRUST_GNSS_POOR',
  'E_TRUST_EXPIRED',
  'E_TIME_UNTRUSTED',
  'E_CLOCK',
  // scan pipeline rejections
  'E_RSSI',
  'E_PEER_TABLE_FULL',
  'E_VENUE_UNKNOWN',
  // carer link and pairing
  'E_ABORTED',
  'E_PROTOCOL',
  'E_COMMIT',
  'E_CODE',
  'E_PAIR',
  'E_PAIR_AGAIN',
  'E_PAIRING_CLOSED',
  'E_REVOKED',
  'E_LINK',
  'E_FULL',
  'E_ROLLBACK',
  // local HTTP APIs and control sockets
  'E_AUTH',
  'E_TOKEN',
  'E_ORIGIN',
  'E_HOST',
  'E_METHOD',
  'E_MEDIA_TYPE',
  'E_TLS',
  'E_HTTP',
  'E_UNKNOWN_OP',
  'E_BUSY',
  'E_PERMISSION',
  // configuration, processes and the host
  'E_CONFIG',
  'E_USAGE',
  'E_TIMEOUT',
  'E_STOPPED',
  'E_PATH',
  'E_SPAWN',
  'E_TOOL',
  'E_NATIVE_MISSING',
  'E_PREBUILD',
  'E_PORT',
  // anchoring, risk fitting, RSSI calibration
  'E_RPC',
  'E_REVERT',
  'E_NONCE',
  'E_COMPILE',
  'E_CONVERGENCE',
  'E_SEPARATION',
  'E_SINGULAR',
  'E_CALIBRATION',
  'E_CALIBRATION_SAMPLES',
  'E_CALIBRATION_SPREAD',
  // test, HIL and demo harnesses
  'E_ASSERT',
  'E_SKIP',
  'E_AGENT',
  'E_WEARABLE',
  'E_CONSENT',
  'E_CONTROL',
  'E_CONFORMANCE',
  'E_PRIVACY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN.has(code);
}

/**
 * A code received from a peer (a gateway's ErrorReply, a carer `abort`, a JSON error body) as an
 * ErrorCode: itself when registered, else `E_UNKNOWN` (SPEC.md §13.1: treat it as "retry later";
 * put the received code in the message).
 */
export function errorCodeOf(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'E_UNKNOWN';
}

/** A BeepkitError for a code a peer sent: `errorCodeOf(code)`, with the received code in the message when unknown. */
export function remoteError(code: string, message: string): BeepkitError {
  const known = errorCodeOf(code);
  return new BeepkitError(known, known === code ? message : `${code}: ${message}`);
}

export class BeepkitError extends Error {
  readonly code: ErrorCode;
  override readonly cause?: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'BeepkitError';
    this.code = code;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isBeepkitError(e: unknown): e is BeepkitError {
  return e instanceof BeepkitError;
}

/** Throws E_TRUNCATED unless `buf` holds at least `need` bytes from `offset`. */
export function need(buf: Uint8Array, offset: number, need: number, what: string): void {
  if (offset + need > buf.length) {
    throw new BeepkitError('E_TRUNCATED', `${what}: need ${need} bytes at offset ${offset}, have ${Math.max(0, buf.length - offset)}`);
  }
}
