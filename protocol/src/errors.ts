/**
 * The one typed error of beepkit. Every decoder and verifier throws only this
 * (or a subclass), with a stable `code` that callers switch on and count.
 */
export type ErrorCode =
  | 'E_TRUNCATED' // input shorter than its layout or length field says
  | 'E_OVERRUN' // a length field runs past the end of the buffer
  | 'E_TRAILING' // bytes left after a complete structure
  | 'E_CHECKSUM' // NMEA checksum, hash or MAC mismatch
  | 'E_SIGNATURE' // a signature does not verify
  | 'E_VERSION' // unknown format version
  | 'E_TYPE' // unknown message/frame type
  | 'E_RANGE' // a field out of its allowed range
  | 'E_FORMAT' // text that does not parse
  | 'E_DECRYPT' // AEAD open failed
  | 'E_EXPIRED' // certificate or frame outside its validity window
  | 'E_REPLAY' // already seen / outside the freshness window
  | 'E_CERT' // certificate does not match (day, key, issuer)
  | 'E_KEY' // key missing, renounced, destroyed or wrong
  | 'E_CONFIG' // invalid configuration
  | 'E_HCI' // malformed HCI frame
  | 'E_IO' // I/O failure at a boundary
  | (string & {}); // subsystems may add their own E_* codes

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
