/**
 * Endorsement record (tracing chain). The diagnostician re-couples the
 * patient's pseudonyms with its own certificate as prefix:
 *
 *   u8 tag=0xE1 | u8 version=1 | u16 certLen | diagnostician certificate
 *   | challenge (58 B) | u32 time | u8 match level (geodata Level 0..4: the
 *   solver coarsens to it when matching) | u8 n (1..14) × (u32 day | 32 pseudonym | 64 proof)
 *   | 64 Ed25519(diagnostician, "beepkit/endorsement/v1" || every byte before)
 *
 * Anyone can verify it from the record alone plus the CA key: the certificate
 * (role diagnostician, valid at `time`), that the challenge names the
 * certificate's subject and was fresh at `time`, every pseudonym's proof, and
 * the diagnostician's signature.
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, concatBytes, equalBytes } from '../bytes.ts';
import { utf8 } from '../crypto/hash.ts';
import { Ed25519Signer, ed25519Verify } from '../crypto/ed25519.ts';
import { decodeCertificate, verifyCertificate, type Certificate } from '../cert/index.ts';
import {
  ENDORSE_VERSION,
  checkDays,
  checkWindow,
  readChallenge,
  readDayProof,
  verifyDayProof,
  writeChallenge,
  writeDayProof,
  type Challenge,
  type DayProof,
} from './consent.ts';

export const ENDORSEMENT_TAG = 0xe1;
const SIG_DOMAIN = utf8('beepkit/endorsement/v1');

export interface EndorsementBody {
  /** Encoded diagnostician certificate. */
  certificate: Uint8Array;
  challenge: Challenge;
  /** Unix seconds. */
  time: number;
  /** Geodata level the solver coarsens to when matching (0 exact .. 4 grid1000). */
  level: number;
  days: DayProof[];
}

export interface Endorsement extends EndorsementBody {
  signature: Uint8Array;
}

function body(e: EndorsementBody): Uint8Array {
  checkDays(e.days, 'endorsement');
  if (!Number.isInteger(e.level) || e.level < 0 || e.level > 4) throw new BeepkitError('E_RANGE', `endorsement: match level ${e.level} not in 0..4`);
  const w = new Writer(512).u8(ENDORSEMENT_TAG).u8(ENDORSE_VERSION).vbytes(e.certificate);
  writeChallenge(w, e.challenge).u32(e.time).u8(e.level).u8(e.days.length);
  for (const d of e.days) writeDayProof(w, d);
  return w.finish();
}

export function signEndorsement(e: EndorsementBody, diagnostician: Uint8Array | Ed25519Signer): Uint8Array {
  const signer = diagnostician instanceof Ed25519Signer ? diagnostician : new Ed25519Signer(diagnostician);
  const b = body(e);
  return concatBytes(b, signer.sign(concatBytes(SIG_DOMAIN, b)));
}

export function encodeEndorsement(e: Endorsement): Uint8Array {
  return concatBytes(body(e), new Writer(64).bytes(e.signature, 64).finish());
}

/** True when the entry bytes look like an endorsement (tag byte). */
export function isEndorsement(b: Uint8Array): boolean {
  return b.length > 0 && b[0] === ENDORSEMENT_TAG;
}

export function decodeEndorsement(b: Uint8Array): Endorsement {
  const r = new Reader(b, 'endorsement');
  const tag = r.u8('tag');
  if (tag !== ENDORSEMENT_TAG) throw new BeepkitError('E_TYPE', `endorsement: tag 0x${tag.toString(16)}`);
  const v = r.u8('version');
  if (v !== ENDORSE_VERSION) throw new BeepkitError('E_VERSION', `endorsement: unknown version ${v}`);
  const certificate = r.vbytes('certificate');
  const challenge = readChallenge(r);
  const time = r.u32('time');
  const level = r.u8('level');
  if (level > 4) throw new BeepkitError('E_RANGE', `endorsement: match level ${level} not in 0..4`);
  const n = r.u8('n');
  const days: DayProof[] = [];
  for (let i = 0; i < n; i++) days.push(readDayProof(r));
  checkDays(days, 'endorsement');
  const signature = r.bytes(64, 'signature');
  r.end();
  return { certificate, challenge, time, level, days, signature };
}

export interface VerifyEndorsementOptions {
  caPub: Uint8Array;
  windowDays?: number;
}

/**
 * Full check of an endorsement record; returns the decoded record and the
 * diagnostician's certificate. E_CERT (no valid diagnostician certificate),
 * E_EXPIRED (certificate or challenge not valid at `time`), E_SIGNATURE (a
 * pseudonym proof or the diagnostician signature), E_RANGE (days outside the window).
 */
export function verifyEndorsement(input: Uint8Array, o: VerifyEndorsementOptions): { endorsement: Endorsement; certificate: Certificate } {
  const e = decodeEndorsement(input);
  const cert = verifyCertificate(decodeCertificate(e.certificate), o.caPub, { now: e.time, role: 'diagnostician' });
  if (!equalBytes(cert.subject, e.challenge.diagnostician)) throw new BeepkitError('E_CERT', 'endorsement: challenge names another diagnostician');
  if (e.time < e.challenge.issuedAt || e.time > e.challenge.expiresAt)
    throw new BeepkitError('E_EXPIRED', 'endorsement: challenge was stale at endorsement time');
  checkWindow(e.days, e.time, o.windowDays);
  for (const d of e.days) verifyDayProof(e.challenge, d);
  if (!ed25519Verify(cert.subject, concatBytes(SIG_DOMAIN, input.subarray(0, input.length - 64)), e.signature))
    throw new BeepkitError('E_SIGNATURE', 'endorsement: bad diagnostician signature');
  return { endorsement: e, certificate: cert };
}
