/**
 * TraceCode: version | prefix | suffix, the unit a device uploads per interval.
 *
 *   u8 version=1 | 32 prefix (Ed25519 pseudonym public key of the day)
 *   | suffix: u16 interval | 8 salt | ChaCha20-Poly1305(geodata, 30 bytes) + 16 tag
 *   = 89 bytes (suffix 56).
 *
 * Sealing to the solver's X25519 key uses the pseudonym-day ephemeral key E
 * (derived from the master, carried once in the signed batch header):
 *   K     = HKDF-SHA256(X25519(e, S), salt = E || S, "beepkit/v1/tracecode/aead", 32)
 *   nonce = u16 interval || 0x0000 || salt       (salt: 8 random bytes per record)
 *   AAD   = version || prefix || E || u16 interval
 * so the solver does one ECDH per pseudonym-day (EcdhCache) and one AEAD open
 * per record, and a record cannot be moved to another pseudonym, batch/day key
 * or interval without failing authentication.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, toHex } from '../bytes.ts';
import { hkdf, taggedHash, utf8 } from '../crypto/hash.ts';
import { TAG_LEN, chachaOpen, chachaSeal } from '../crypto/aead.ts';
import { ChaChaPolyOpener } from '../crypto/chacha.ts';
import { X25519Key } from '../crypto/x25519.ts';
import { GEODATA_LEN, decodeGeodata, decodeGeodataFields, encodeGeodata, type Geodata } from '../geodata/index.ts';

export const TRACECODE_VERSION = 1;
export const PREFIX_LEN = 32;
export const SALT_LEN = 8;
export const CIPHERTEXT_LEN = GEODATA_LEN + TAG_LEN;
export const SUFFIX_LEN = 2 + SALT_LEN + CIPHERTEXT_LEN;
export const TRACECODE_LEN = 1 + PREFIX_LEN + SUFFIX_LEN;
export const FINGERPRINT_LEN = 16;

export interface TraceCode {
  version: number;
  prefix: Uint8Array;
  interval: number;
  salt: Uint8Array;
  /** Geodata ciphertext || tag. */
  ciphertext: Uint8Array;
}

export function encodeTraceCode(tc: TraceCode): Uint8Array {
  if (tc.version !== TRACECODE_VERSION) throw new BeepkitError('E_VERSION', `tracecode: unknown version ${tc.version}`);
  return new Writer(TRACECODE_LEN)
    .u8(tc.version)
    .bytes(tc.prefix, PREFIX_LEN)
    .u16(tc.interval)
    .bytes(tc.salt, SALT_LEN)
    .bytes(tc.ciphertext, CIPHERTEXT_LEN)
    .finish();
}

/** Does the record at `at` in `bytes` (a batch's records, or one record at 0) carry `prefix`, its bytes [1, 33)? */
export function prefixIs(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (prefix.length !== PREFIX_LEN) return false;
  for (let i = 0; i < PREFIX_LEN; i++) if (bytes[at + 1 + i] !== prefix[i]) return false;
  return true;
}

/** The interval of the record at `at` in `bytes`: the u16 after its version and prefix. */
export function intervalAt(bytes: Uint8Array, at: number): number {
  return (bytes[at + 1 + PREFIX_LEN] << 8) | bytes[at + 2 + PREFIX_LEN];
}

/** `copy: false`: the fields are views into `b`. */
export function decodeTraceCode(b: Uint8Array, copy = true): TraceCode {
  if (b.length === TRACECODE_LEN) {
    // the common case (every record of a batch), read in place: no Reader per record; same fields and errors
    if (b[0] !== TRACECODE_VERSION) throw new BeepkitError('E_VERSION', `tracecode: unknown version ${b[0]}`);
    const at = 1 + PREFIX_LEN + 2;
    return {
      version: TRACECODE_VERSION,
      prefix: copy ? b.slice(1, 1 + PREFIX_LEN) : b.subarray(1, 1 + PREFIX_LEN),
      interval: intervalAt(b, 0),
      salt: copy ? b.slice(at, at + SALT_LEN) : b.subarray(at, at + SALT_LEN),
      ciphertext: copy ? b.slice(at + SALT_LEN, TRACECODE_LEN) : b.subarray(at + SALT_LEN, TRACECODE_LEN),
    };
  }
  const r = new Reader(b, 'tracecode', copy);
  const version = r.u8('version');
  if (version !== TRACECODE_VERSION) throw new BeepkitError('E_VERSION', `tracecode: unknown version ${version}`);
  const tc = {
    version,
    prefix: r.bytes(PREFIX_LEN, 'prefix'),
    interval: r.u16('interval'),
    salt: r.bytes(SALT_LEN, 'salt'),
    ciphertext: r.bytes(CIPHERTEXT_LEN, 'ciphertext'),
  };
  r.end();
  return tc;
}

/** First 16 bytes of SHA-256("beepkit/fingerprint/v1" || prefix). */
export function fingerprint(prefix: Uint8Array): Uint8Array {
  if (prefix.length !== PREFIX_LEN) throw new BeepkitError('E_RANGE', 'fingerprint: prefix must be 32 bytes');
  return taggedHash('beepkit/fingerprint/v1', prefix).slice(0, FINGERPRINT_LEN);
}

/** SHA-256("beepkit/record/v1" || record bytes): the idempotency key of a record. */
export function recordHash(record: Uint8Array): Uint8Array {
  return taggedHash('beepkit/record/v1', record);
}

const KEY_INFO = utf8('beepkit/v1/tracecode/aead');
const ONE = Uint8Array.of(1);

export function traceCodeKey(shared: Uint8Array, ephemeralPub: Uint8Array, solverPub: Uint8Array): Uint8Array {
  const salt = new Uint8Array(64);
  salt.set(ephemeralPub, 0);
  salt.set(solverPub, 32);
  if (shared.length !== 32) return hkdf(shared, salt, KEY_INFO, 32);
  // HKDF-SHA256 with one output block spelled out (RFC 5869): two HMACs, ~3x cheaper than hkdfSync's job set-up
  const prk = createHmac('sha256', salt).update(shared).digest();
  return new Uint8Array(createHmac('sha256', prk).update(KEY_INFO).update(ONE).digest());
}

function nonceOf(interval: number, salt: Uint8Array): Uint8Array {
  const n = new Uint8Array(12);
  n[0] = interval >>> 8;
  n[1] = interval & 0xff;
  n.set(salt, 4);
  return n;
}

function aadOf(version: number, prefix: Uint8Array, ephemeralPub: Uint8Array, interval: number): Uint8Array {
  const a = new Uint8Array(1 + 32 + 32 + 2);
  a[0] = version;
  a.set(prefix, 1);
  a.set(ephemeralPub, 33);
  a[65] = interval >>> 8;
  a[66] = interval & 0xff;
  return a;
}

function checkInterval(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i > 0xffff) throw new BeepkitError('E_RANGE', `tracecode: interval out of range: ${i}`);
}

export interface SealerOptions {
  /** The day's pseudonym public key (prefix). */
  prefix: Uint8Array;
  /** The pseudonym-day ephemeral X25519 private key. */
  ephemeralPriv: Uint8Array;
  /** The solver's X25519 public key (from the CA). */
  solverPub: Uint8Array;
}

/** Seals many records of one pseudonym-day with a single ECDH. */
export class TraceCodeSealer {
  readonly ephemeralPub: Uint8Array;
  private readonly key: Uint8Array;
  private readonly prefix: Uint8Array;
  constructor(opts: SealerOptions) {
    if (opts.prefix.length !== PREFIX_LEN) throw new BeepkitError('E_RANGE', 'tracecode: prefix must be 32 bytes');
    const eph = new X25519Key(opts.ephemeralPriv);
    this.ephemeralPub = eph.publicKey;
    this.prefix = opts.prefix.slice();
    this.key = traceCodeKey(eph.ecdh(opts.solverPub), this.ephemeralPub, opts.solverPub);
  }
  /** `salt` (8 bytes) is random unless given (test vectors). */
  seal(interval: number, geodata: Geodata, salt?: Uint8Array): Uint8Array {
    checkInterval(interval);
    const s = salt ?? new Uint8Array(randomBytes(SALT_LEN));
    if (s.length !== SALT_LEN) throw new BeepkitError('E_RANGE', 'tracecode: salt must be 8 bytes');
    const ct = chachaSeal(this.key, nonceOf(interval, s), encodeGeodata(geodata), aadOf(TRACECODE_VERSION, this.prefix, this.ephemeralPub, interval));
    return encodeTraceCode({ version: TRACECODE_VERSION, prefix: this.prefix, interval, salt: s, ciphertext: ct });
  }
}

export function sealTraceCode(opts: SealerOptions & { interval: number; geodata: Geodata; salt?: Uint8Array }): Uint8Array {
  return new TraceCodeSealer(opts).seal(opts.interval, opts.geodata, opts.salt);
}

/**
 * The solver's ECDH cache: one X25519 per ephemeral key (pseudonym-day), then
 * AEAD keys are reused (LRU, `max` entries).
 */
export class EcdhCache {
  private readonly priv: X25519Key;
  private readonly map = new Map<string, Uint8Array>();
  hits = 0;
  misses = 0;
  constructor(
    solverPriv: Uint8Array,
    readonly max = 65536,
  ) {
    this.priv = new X25519Key(solverPriv);
  }
  get solverPub(): Uint8Array {
    return this.priv.publicKey;
  }
  key(ephemeralPub: Uint8Array): Uint8Array {
    if (ephemeralPub.length !== 32) throw new BeepkitError('E_KEY', 'tracecode: ephemeral key must be 32 bytes');
    const id = toHex(ephemeralPub);
    const k = this.map.get(id);
    if (k) {
      this.hits++;
      this.map.delete(id);
      this.map.set(id, k);
      return k;
    }
    this.misses++;
    const fresh = traceCodeKey(this.priv.ecdh(ephemeralPub), ephemeralPub, this.priv.publicKey);
    this.map.set(id, fresh);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return fresh;
  }
}

/**
 * Opens a TraceCode (bytes or decoded) given the batch's ephemeral public key.
 * `solver` is the solver's X25519 private key or an EcdhCache. Throws
 * E_DECRYPT when the record was altered or sealed to another key.
 */
export function openTraceCode(solver: Uint8Array | EcdhCache, tc: Uint8Array | TraceCode, ephemeralPub: Uint8Array): Geodata {
  const cache = solver instanceof EcdhCache ? solver : new EcdhCache(solver, 1);
  const t = tc instanceof Uint8Array ? decodeTraceCode(tc) : tc;
  const pt = chachaOpen(cache.key(ephemeralPub), nonceOf(t.interval, t.salt), t.ciphertext, aadOf(t.version, t.prefix, ephemeralPub, t.interval));
  return decodeGeodata(pt);
}

const AAD_LEN = 1 + PREFIX_LEN + 32 + 2;
const CT_OFF = 1 + PREFIX_LEN + 2 + SALT_LEN;

/**
 * The solver's allocation-free open: bound to one batch's ephemeral key
 * (`setEphemeral`: one cached ECDH), it opens encoded TraceCodes in place and
 * decodes their geodata into a Float64Array (GEODATA_FIELD slots); the last
 * plaintext stays in `plain` (venue id at GEODATA_VENUE_OFFSET). Same bytes,
 * same checks and same results as openTraceCode. Not re-entrant.
 */
export class TraceCodeOpener {
  /** Plaintext geodata of the last successful open. */
  readonly plain = new Uint8Array(GEODATA_LEN);
  private readonly aead = new ChaChaPolyOpener();
  private readonly aad = new Uint8Array(AAD_LEN);
  private bound = false;
  constructor(readonly cache: EcdhCache) {}

  /** Binds the batch's ephemeral public key (32 bytes at `e[off]`). */
  setEphemeral(e: Uint8Array, off = 0): this {
    const pub = off === 0 && e.length === 32 ? e : e.subarray(off, off + 32);
    this.aead.setKey(this.cache.key(pub));
    this.aad.set(pub, 1 + PREFIX_LEN);
    this.bound = true;
    return this;
  }

  /**
   * Opens the TraceCode at `b[off .. off + TRACECODE_LEN)`: false when it does
   * not authenticate (E_DECRYPT in openTraceCode); throws BeepkitError for a
   * short record, an unknown version or invalid geodata.
   */
  openInto(b: Uint8Array, off: number, out: Float64Array): boolean {
    if (!this.bound) throw new BeepkitError('E_CONFIG', 'TraceCodeOpener: setEphemeral first');
    if (off < 0 || b.length - off < TRACECODE_LEN) throw new BeepkitError('E_TRUNCATED', 'tracecode: record shorter than 89 bytes');
    const version = b[off];
    if (version !== TRACECODE_VERSION) throw new BeepkitError('E_VERSION', `tracecode: unknown version ${version}`);
    const aad = this.aad;
    for (let i = 0; i < 1 + PREFIX_LEN; i++) aad[i] = b[off + i];
    const iv = off + 1 + PREFIX_LEN;
    aad[AAD_LEN - 2] = b[iv];
    aad[AAD_LEN - 1] = b[iv + 1];
    const s = iv + 2;
    const n0 = b[iv] | (b[iv + 1] << 8);
    const n1 = b[s] | (b[s + 1] << 8) | (b[s + 2] << 16) | (b[s + 3] << 24);
    const n2 = b[s + 4] | (b[s + 5] << 8) | (b[s + 6] << 16) | (b[s + 7] << 24);
    if (!this.aead.open(n0, n1, n2, aad, 0, AAD_LEN, b, off + CT_OFF, GEODATA_LEN, this.plain, 0)) return false;
    decodeGeodataFields(this.plain, 0, out);
    return true;
  }
}

/** One-shot form of TraceCodeOpener (one cache lookup per call). */
export function openTraceCodeInto(cache: EcdhCache, bytes: Uint8Array, offset: number, ephemeralPub: Uint8Array, out: Float64Array): boolean {
  return new TraceCodeOpener(cache).setEphemeral(ephemeralPub).openInto(bytes, offset, out);
}
