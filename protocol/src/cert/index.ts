/**
 * CA certificates (Ed25519). Binds a pseudonym public key to a UTC day, a
 * region path, a solver key id and a role, valid in [notBefore, notAfter].
 *
 * Encoding (big-endian):
 *   u8 version=1 | u8 role | u64 serial | u32 day | u32 notBefore | u32 notAfter
 *   | 32 subject (Ed25519 pseudonym) | 8 issuer key id | 8 solver key id
 *   | u8 regionLen | region (UTF-8, ≤ 255 bytes) | 64 signature
 * signature = Ed25519(CA, "beepkit/cert/v1" || every byte before the signature).
 * Key ids are the first 8 bytes of SHA-256("beepkit/key-id/v1" || public key).
 */
import { timingSafeEqual } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, concatBytes, equalBytes } from '../bytes.ts';
import { taggedHash, utf8 } from '../crypto/hash.ts';
import { Ed25519Signer, ed25519Verify } from '../crypto/ed25519.ts';

export const CERT_VERSION = 1;
export const KEY_ID_LEN = 8;
export const CERT_FIXED_LEN = 1 + 1 + 8 + 4 + 4 + 4 + 32 + 8 + 8 + 1 + 64;
const SIG_DOMAIN = utf8('beepkit/cert/v1');

export const Role = { device: 1, diagnostician: 2, beacon: 3 } as const;
export type RoleName = keyof typeof Role;
const ROLE_NAMES: Record<number, RoleName> = { 1: 'device', 2: 'diagnostician', 3: 'beacon' };

export interface CertFields {
  role: RoleName;
  serial: number;
  day: number;
  notBefore: number;
  notAfter: number;
  /** The certified Ed25519 public key (the day's pseudonym for role device). */
  subject: Uint8Array;
  solverKeyId: Uint8Array;
  /** Region path, e.g. "CA/Alameda/Berkeley". */
  region: string;
}

export interface Certificate extends CertFields {
  issuerKeyId: Uint8Array;
  signature: Uint8Array;
  /** The exact encoded bytes (for hashing, re-transmission). */
  bytes: Uint8Array;
}

/** 8-byte key id of any public key (CA, solver, venue). */
export function keyId(pub: Uint8Array): Uint8Array {
  return taggedHash('beepkit/key-id/v1', pub).slice(0, KEY_ID_LEN);
}

/** The last CA key seen by verifyCertificate and its key id (one CA verifies many certificates). */
let lastCa: { pub: Uint8Array; id: Uint8Array } | undefined;
function caKeyId(caPub: Uint8Array): Uint8Array {
  if (!lastCa || !equalBytes(lastCa.pub, caPub)) lastCa = { pub: caPub.slice(), id: keyId(caPub) };
  return lastCa.id;
}

function tbs(f: CertFields, issuerKeyId: Uint8Array): Uint8Array {
  const role = Role[f.role];
  if (!role) throw new BeepkitError('E_RANGE', `certificate: unknown role ${String(f.role)}`);
  const region = utf8(f.region);
  if (region.length > 255) throw new BeepkitError('E_RANGE', 'certificate: region longer than 255 bytes');
  if (f.notAfter < f.notBefore) throw new BeepkitError('E_RANGE', 'certificate: notAfter before notBefore');
  const w = new Writer(CERT_FIXED_LEN + region.length);
  w.u8(CERT_VERSION).u8(role).u64(f.serial).u32(f.day).u32(f.notBefore).u32(f.notAfter);
  w.bytes(f.subject, 32).bytes(issuerKeyId, KEY_ID_LEN).bytes(f.solverKeyId, KEY_ID_LEN);
  w.u8(region.length).bytes(region);
  return w.finish();
}

/** Issues a certificate signed by the CA's Ed25519 seed. */
export function issueCertificate(caPriv: Uint8Array | Ed25519Signer, fields: CertFields): Certificate {
  const signer = caPriv instanceof Ed25519Signer ? caPriv : new Ed25519Signer(caPriv);
  const issuerKeyId = keyId(signer.publicKey);
  const body = tbs(fields, issuerKeyId);
  const signature = signer.sign(concatBytes(SIG_DOMAIN, body));
  const bytes = concatBytes(body, signature);
  return { ...fields, subject: fields.subject.slice(), solverKeyId: fields.solverKeyId.slice(), issuerKeyId, signature, bytes };
}

export function encodeCertificate(c: Certificate): Uint8Array {
  return c.bytes.slice();
}

export function decodeCertificate(b: Uint8Array): Certificate {
  const r = new Reader(b, 'certificate');
  const v = r.u8('version');
  if (v !== CERT_VERSION) throw new BeepkitError('E_VERSION', `certificate: unknown version ${v}`);
  const roleCode = r.u8('role');
  const role = ROLE_NAMES[roleCode];
  if (!role) throw new BeepkitError('E_RANGE', `certificate: unknown role ${roleCode}`);
  const serial = r.u64('serial');
  const day = r.u32('day');
  const notBefore = r.u32('notBefore');
  const notAfter = r.u32('notAfter');
  if (notAfter < notBefore) throw new BeepkitError('E_RANGE', 'certificate: notAfter before notBefore');
  const subject = r.bytes(32, 'subject');
  const issuerKeyId = r.bytes(KEY_ID_LEN, 'issuerKeyId');
  const solverKeyId = r.bytes(KEY_ID_LEN, 'solverKeyId');
  const regionBytes = r.bytes(r.u8('region.length'), 'region');
  let region: string;
  try {
    region = new TextDecoder('utf-8', { fatal: true }).decode(regionBytes);
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', 'certificate: region is not valid UTF-8', { cause });
  }
  const signature = r.bytes(64, 'signature');
  r.end();
  return { role, serial, day, notBefore, notAfter, subject, issuerKeyId, solverKeyId, region, signature, bytes: b.slice() };
}

export interface VerifyCertOptions {
  /** Unix seconds. */
  now: number;
  /** When given, the certificate must be for this day (E_CERT). */
  day?: number;
  /** When given, the certificate must carry this role (E_CERT). */
  role?: RoleName;
  /** When given, the subject must equal this key (E_CERT). */
  subject?: Uint8Array;
  /**
   * The CA's own signing key, for a verifier that holds it (the gateway, whose CA issues device certificates).
   * Ed25519 signatures are deterministic (RFC 8032): a certificate whose signature equals this key's signature
   * over its body is the CA's, checked by one signature (~30 µs) instead of a verify (~80 µs). Any other
   * signature is verified as without it. Ignored unless its public key is `caPub`.
   */
  issuer?: Ed25519Signer;
}

/** Whether `signer` (the CA itself) makes exactly `sig` over `msg` (compared in constant time). */
function signedByIssuer(signer: Ed25519Signer, msg: Uint8Array, sig: Uint8Array): boolean {
  const own = signer.sign(msg);
  return own.length === sig.length && timingSafeEqual(own, sig);
}

/**
 * Verifies issuer, signature, validity window and optional bindings.
 * Throws E_CERT (wrong issuer/day/role/subject), E_SIGNATURE, E_EXPIRED.
 * Accepts bytes or a decoded certificate; returns the decoded certificate.
 * The CA key's id and imported KeyObject are cached (crypto/ed25519
 * `ed25519KeyObject`), so a call costs one Ed25519 verify and no key import
 * (one signature instead, with `opts.issuer`, for a certificate that CA signed).
 */
export function verifyCertificate(cert: Certificate | Uint8Array, caPub: Uint8Array, opts: VerifyCertOptions): Certificate {
  const c = cert instanceof Uint8Array ? decodeCertificate(cert) : cert;
  if (!equalBytes(c.issuerKeyId, caKeyId(caPub))) throw new BeepkitError('E_CERT', 'certificate: issued by another CA');
  const body = c.bytes.subarray(0, c.bytes.length - 64);
  const signed = concatBytes(SIG_DOMAIN, body);
  const own = opts.issuer !== undefined && equalBytes(opts.issuer.publicKey, caPub) && signedByIssuer(opts.issuer, signed, c.signature);
  if (!equalBytes(c.bytes.subarray(c.bytes.length - 64), c.signature) || (!own && !ed25519Verify(caPub, signed, c.signature))) {
    throw new BeepkitError('E_SIGNATURE', 'certificate: bad CA signature');
  }
  // the decoded fields must be exactly what was signed
  if (!equalBytes(body, tbs(c, c.issuerKeyId))) throw new BeepkitError('E_CERT', 'certificate: fields differ from the signed bytes');
  if (opts.now < c.notBefore || opts.now > c.notAfter)
    throw new BeepkitError('E_EXPIRED', `certificate: not valid at ${opts.now} (${c.notBefore}..${c.notAfter})`);
  if (opts.day !== undefined && c.day !== opts.day) throw new BeepkitError('E_CERT', `certificate: for day ${c.day}, not ${opts.day}`);
  if (opts.role !== undefined && c.role !== opts.role) throw new BeepkitError('E_CERT', `certificate: role ${c.role}, not ${opts.role}`);
  if (opts.subject !== undefined && !equalBytes(c.subject, opts.subject)) throw new BeepkitError('E_CERT', 'certificate: subject key differs');
  return c;
}
