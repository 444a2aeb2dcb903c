/**
 * Diagnosis consent (BeepTrace steps 7–8). The diagnostician issues a
 * challenge; the patient's agent answers with a consent bundle proving it owns
 * each chosen day's pseudonym (an Ed25519 signature by that pseudonym over
 * the challenge), optionally with the TEKs of past days and venue visits.
 *
 *   Challenge (58 B): u8 version=1 | u8 kind=0x01 | 16 nonce | 32 diagnostician
 *     Ed25519 public key | u32 issuedAt | u32 expiresAt   (Unix seconds)
 *   Consent: u8 version=1 | u8 kind=0x02 | challenge (58 B)
 *     | u8 nDays (1..14) × (u32 day | 32 pseudonym | 64 proof)   days strictly ascending
 *     | u8 nTeks (0..14) × (16 tek | u32 rollingStart | u16 period 1..144)
 *     | u16 nVisits (0..1024) × (8 venue id | u32 entry | u32 exit)
 *   proof = Ed25519(pseudonym, "beepkit/consent/v1" || challenge || u32 day || pseudonym)
 */
import { randomBytes } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, equalBytes } from '../bytes.ts';
import { utf8 } from '../crypto/hash.ts';
import { Ed25519Signer, ed25519Verify } from '../crypto/ed25519.ts';
import type { DayKeys } from '../keys/schedule.ts';

export const ENDORSE_VERSION = 1;
export const CHALLENGE_LEN = 58;
export const NONCE_LEN = 16;
export const MAX_CONSENT_DAYS = 14;
export const MAX_CONSENT_VISITS = 1024;
export const EK_PERIOD = 144;
const KIND_CHALLENGE = 0x01;
const KIND_CONSENT = 0x02;
const PROOF_DOMAIN = utf8('beepkit/consent/v1');

export interface Challenge {
  nonce: Uint8Array;
  /** The diagnostician's Ed25519 public key (its certificate's subject). */
  diagnostician: Uint8Array;
  issuedAt: number;
  expiresAt: number;
}

export interface DayProof {
  day: number;
  pseudonym: Uint8Array;
  proof: Uint8Array;
}

export interface TekEntry {
  tek: Uint8Array;
  /** ENIN of the key's first 10-minute interval. */
  rollingStart: number;
  /** Number of intervals the key is valid (1..144). */
  period: number;
}

export interface VisitEntry {
  venue: Uint8Array;
  /** Unix seconds. */
  entry: number;
  exit: number;
}

export interface Consent {
  challenge: Challenge;
  days: DayProof[];
  teks: TekEntry[];
  visits: VisitEntry[];
}

export function newChallenge(diagnostician: Uint8Array, now: number, ttlSeconds = 900, nonce?: Uint8Array): Challenge {
  const c = { nonce: nonce ?? new Uint8Array(randomBytes(NONCE_LEN)), diagnostician: diagnostician.slice(), issuedAt: now, expiresAt: now + ttlSeconds };
  encodeChallenge(c);
  return c;
}

export function writeChallenge(w: Writer, c: Challenge): Writer {
  if (c.expiresAt < c.issuedAt) throw new BeepkitError('E_RANGE', 'challenge: expires before it is issued');
  return w.u8(ENDORSE_VERSION).u8(KIND_CHALLENGE).bytes(c.nonce, NONCE_LEN).bytes(c.diagnostician, 32).u32(c.issuedAt).u32(c.expiresAt);
}

export function encodeChallenge(c: Challenge): Uint8Array {
  return writeChallenge(new Writer(CHALLENGE_LEN), c).finish();
}

function header(r: Reader, kind: number, what: string): void {
  const v = r.u8('version');
  if (v !== ENDORSE_VERSION) throw new BeepkitError('E_VERSION', `${what}: unknown version ${v}`);
  const k = r.u8('kind');
  if (k !== kind) throw new BeepkitError('E_TYPE', `${what}: kind ${k}, expected ${kind}`);
}

export function readChallenge(r: Reader): Challenge {
  header(r, KIND_CHALLENGE, 'challenge');
  const c = { nonce: r.bytes(NONCE_LEN, 'nonce'), diagnostician: r.bytes(32, 'diagnostician'), issuedAt: r.u32('issuedAt'), expiresAt: r.u32('expiresAt') };
  if (c.expiresAt < c.issuedAt) throw new BeepkitError('E_RANGE', 'challenge: expires before it is issued');
  return c;
}

export function decodeChallenge(b: Uint8Array): Challenge {
  const r = new Reader(b, 'challenge');
  const c = readChallenge(r);
  r.end();
  return c;
}

/** The bytes a pseudonym signs to prove ownership for `day` under `challenge`. */
export function proofMessage(challenge: Challenge, day: number, pseudonym: Uint8Array): Uint8Array {
  return new Writer(128).bytes(PROOF_DOMAIN).bytes(encodeChallenge(challenge)).u32(day).bytes(pseudonym, 32).finish();
}

export function writeDayProof(w: Writer, d: DayProof): Writer {
  return w.u32(d.day).bytes(d.pseudonym, 32).bytes(d.proof, 64);
}

export function readDayProof(r: Reader): DayProof {
  return { day: r.u32('day'), pseudonym: r.bytes(32, 'pseudonym'), proof: r.bytes(64, 'proof') };
}

/** Days strictly ascending, 1..14 of them. */
export function checkDays(days: { day: number }[], what: string): void {
  if (days.length < 1 || days.length > MAX_CONSENT_DAYS) throw new BeepkitError('E_RANGE', `${what}: 1..${MAX_CONSENT_DAYS} days`);
  for (let i = 1; i < days.length; i++) if (days[i].day <= days[i - 1].day) throw new BeepkitError('E_FORMAT', `${what}: days must be strictly ascending`);
}

function checkTek(t: TekEntry): void {
  if (t.period < 1 || t.period > EK_PERIOD) throw new BeepkitError('E_RANGE', `consent: TEK period ${t.period} not in 1..${EK_PERIOD}`);
}

function checkVisit(v: VisitEntry): void {
  if (v.exit < v.entry) throw new BeepkitError('E_RANGE', 'consent: visit exit before entry');
}

export function encodeConsent(c: Consent): Uint8Array {
  checkDays(c.days, 'consent');
  if (c.teks.length > MAX_CONSENT_DAYS) throw new BeepkitError('E_RANGE', `consent: at most ${MAX_CONSENT_DAYS} TEKs`);
  if (c.visits.length > MAX_CONSENT_VISITS) throw new BeepkitError('E_RANGE', `consent: at most ${MAX_CONSENT_VISITS} visits`);
  const w = new Writer(256).u8(ENDORSE_VERSION).u8(KIND_CONSENT);
  writeChallenge(w, c.challenge).u8(c.days.length);
  for (const d of c.days) writeDayProof(w, d);
  w.u8(c.teks.length);
  for (const t of c.teks) {
    checkTek(t);
    w.bytes(t.tek, 16).u32(t.rollingStart).u16(t.period);
  }
  w.u16(c.visits.length);
  for (const v of c.visits) {
    checkVisit(v);
    w.bytes(v.venue, 8).u32(v.entry).u32(v.exit);
  }
  return w.finish();
}

export function decodeConsent(b: Uint8Array): Consent {
  const r = new Reader(b, 'consent');
  header(r, KIND_CONSENT, 'consent');
  const challenge = readChallenge(r);
  const days: DayProof[] = [];
  const nDays = r.u8('nDays');
  for (let i = 0; i < nDays; i++) days.push(readDayProof(r));
  checkDays(days, 'consent');
  const teks: TekEntry[] = [];
  const nTeks = r.u8('nTeks');
  if (nTeks > MAX_CONSENT_DAYS) throw new BeepkitError('E_RANGE', `consent: at most ${MAX_CONSENT_DAYS} TEKs`);
  for (let i = 0; i < nTeks; i++) {
    const t = { tek: r.bytes(16, 'tek'), rollingStart: r.u32('rollingStart'), period: r.u16('period') };
    checkTek(t);
    teks.push(t);
  }
  const visits: VisitEntry[] = [];
  const nVisits = r.u16('nVisits');
  if (nVisits > MAX_CONSENT_VISITS) throw new BeepkitError('E_RANGE', `consent: at most ${MAX_CONSENT_VISITS} visits`);
  for (let i = 0; i < nVisits; i++) {
    const v = { venue: r.bytes(8, 'venue'), entry: r.u32('entry'), exit: r.u32('exit') };
    checkVisit(v);
    visits.push(v);
  }
  r.end();
  return { challenge, days, teks, visits };
}

export interface BuildConsentOptions {
  /** true: the TEKs of the given days that lie before the challenge's day (never today's); or explicit entries. */
  teks?: boolean | TekEntry[];
  visits?: VisitEntry[];
}

/**
 * Agent side: proves ownership of each day's pseudonym for `challenge`.
 * Only keys of past days are shared as TEKs (Exposure Notification rule).
 */
export function buildConsent(challenge: Challenge, dayKeys: DayKeys[], opts: BuildConsentOptions = {}): Consent {
  const sorted = [...dayKeys].sort((a, b) => a.day - b.day);
  const days = sorted.map((k) => ({
    day: k.day,
    pseudonym: k.pseudonym.slice(),
    proof: new Ed25519Signer(k.signingSeed).sign(proofMessage(challenge, k.day, k.pseudonym)),
  }));
  const today = Math.floor(challenge.issuedAt / 86400);
  let teks: TekEntry[] = [];
  if (opts.teks === true) teks = sorted.filter((k) => k.day < today).map((k) => ({ tek: k.tek.slice(), rollingStart: k.day * EK_PERIOD, period: EK_PERIOD }));
  else if (Array.isArray(opts.teks)) teks = opts.teks.filter((t) => t.rollingStart + t.period <= today * EK_PERIOD);
  const c = { challenge, days, teks, visits: opts.visits ?? [] };
  encodeConsent(c);
  return c;
}

export interface VerifyConsentOptions {
  /** Unix seconds. */
  now: number;
  /** The verifier's own key: the challenge must name it (E_KEY). */
  diagnostician?: Uint8Array;
  windowDays?: number;
}

/** Verifies one day proof (E_SIGNATURE). */
export function verifyDayProof(challenge: Challenge, d: DayProof): void {
  if (!ed25519Verify(d.pseudonym, proofMessage(challenge, d.day, d.pseudonym), d.proof))
    throw new BeepkitError('E_SIGNATURE', `consent: proof for day ${d.day} does not verify`);
}

/** Days must lie in the retention window ending on `now`'s day (E_RANGE). */
export function checkWindow(days: { day: number }[], now: number, windowDays = 14): void {
  const today = Math.floor(now / 86400);
  for (const d of days)
    if (d.day > today || d.day <= today - windowDays) throw new BeepkitError('E_RANGE', `day ${d.day} is outside the ${windowDays}-day window ending ${today}`);
}

/**
 * Verifies a consent: challenge freshness (E_EXPIRED), addressee (E_KEY), days
 * in the window (E_RANGE), every pseudonym proof (E_SIGNATURE), TEKs of past
 * days only (E_RANGE).
 */
export function verifyConsent(c: Consent, o: VerifyConsentOptions): void {
  const ch = c.challenge;
  if (o.now < ch.issuedAt || o.now > ch.expiresAt)
    throw new BeepkitError('E_EXPIRED', `consent: challenge not valid at ${o.now} (${ch.issuedAt}..${ch.expiresAt})`);
  if (o.diagnostician && !equalBytes(o.diagnostician, ch.diagnostician))
    throw new BeepkitError('E_KEY', 'consent: challenge was issued by another diagnostician');
  checkDays(c.days, 'consent');
  checkWindow(c.days, o.now, o.windowDays);
  for (const d of c.days) verifyDayProof(ch, d);
  const today = Math.floor(o.now / 86400);
  for (const t of c.teks) {
    if (t.rollingStart + t.period > today * EK_PERIOD) throw new BeepkitError('E_RANGE', 'consent: only keys of past days may be endorsed');
    if (t.rollingStart < (today - (o.windowDays ?? 14)) * EK_PERIOD) throw new BeepkitError('E_RANGE', 'consent: TEK older than the window');
  }
}
