/**
 * Key schedule. A master secret (32 random bytes) starts a master *epoch* from
 * a UTC day onward. Each epoch keeps one chain key, for its earliest retained
 * day; the chain ratchets forward one HKDF step a day, so purging a day really
 * destroys it (the old chain key is overwritten and cannot be recomputed):
 *
 *   chain[d+1]  = HKDF(chain[d], -, "beepkit/v1/keys/ratchet", 32)
 *   seed[d]     = HKDF(chain[d], -, "beepkit/v1/keys/ed25519-pseudonym/day=<d>", 32)  → Ed25519 pseudonym
 *   tek[d]      = HKDF(chain[d], -, "beepkit/v1/keys/en-tek/day=<d>", 16)             → EN TEK
 *   eph[d]      = HKDF(chain[d], -, "beepkit/v1/keys/x25519-ephemeral/day=<d>", 32)   → TraceCode ECDH key
 *
 * State is a plain value; every operation returns a new state.
 * A renounced or purged day's keys can no longer be derived: E_KEY.
 */
import { BeepkitError } from '../errors.ts';
import { hkdf } from '../crypto/hash.ts';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import { x25519PublicKey } from '../crypto/x25519.ts';

export const KEYS_VERSION = 1;
export const MASTER_LEN = 32;
export const DEFAULT_RETENTION_DAYS = 14;
export const MAX_RETENTION_DAYS = 3650;
/** A day further than this from its epoch's chain day is refused (E_RANGE). */
export const MAX_RATCHET_STEPS = 4000;
const MAX_DAY = 0xffffffff;

export interface MasterEpoch {
  /** First day this epoch covers (advanced by purge); the chain key belongs to it. */
  fromDay: number;
  chainKey: Uint8Array;
}

export interface KeystoreState {
  retentionDays: number;
  /** Sorted by fromDay, strictly ascending; epoch i covers [fromDay_i, fromDay_{i+1}). */
  epochs: MasterEpoch[];
  /** Renounced days, strictly ascending. */
  renounced: number[];
}

export interface DayKeys {
  day: number;
  /** Ed25519 seed (private key) of the day's pseudonym. */
  signingSeed: Uint8Array;
  /** Ed25519 public key = the TraceCode prefix. */
  pseudonym: Uint8Array;
  /** 16-byte Exposure Notification temporary exposure key. */
  tek: Uint8Array;
  /** X25519 private key of the pseudonym-day ephemeral (TraceCode sealing). */
  ephemeralPriv: Uint8Array;
  ephemeralPub: Uint8Array;
}

/** UTC day number of a Unix time in seconds. */
export function dayNumber(unixSeconds: number): number {
  return Math.floor(unixSeconds / 86400);
}

export function checkDay(day: number, what = 'day'): void {
  if (!Number.isInteger(day) || day < 0 || day > MAX_DAY) throw new BeepkitError('E_RANGE', `${what} out of range: ${day}`);
}

function checkRetention(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RETENTION_DAYS) throw new BeepkitError('E_RANGE', `retentionDays out of range: ${n}`);
}

function checkMaster(m: Uint8Array): void {
  if (!(m instanceof Uint8Array) || m.length !== MASTER_LEN) throw new BeepkitError('E_KEY', `master secret must be 32 bytes`);
}

export function ratchet(chainKey: Uint8Array, steps: number): Uint8Array {
  let k = chainKey;
  for (let i = 0; i < steps; i++) k = hkdf(k, undefined, 'beepkit/v1/keys/ratchet', 32);
  return k;
}

export function createKeystore(master: Uint8Array, fromDay: number, opts: { retentionDays?: number } = {}): KeystoreState {
  checkMaster(master);
  checkDay(fromDay, 'fromDay');
  const retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
  checkRetention(retentionDays);
  return { retentionDays, epochs: [{ fromDay, chainKey: master.slice() }], renounced: [] };
}

function epochFor(state: KeystoreState, day: number): MasterEpoch {
  let found: MasterEpoch | undefined;
  for (const e of state.epochs) if (e.fromDay <= day) found = e;
  if (!found) throw new BeepkitError('E_KEY', `keys of day ${day} are purged or precede the keystore`);
  return found;
}

/** Chain key of `day` (E_KEY if purged/renounced/before the keystore). */
export function dayChainKey(state: KeystoreState, day: number): Uint8Array {
  checkDay(day);
  if (state.renounced.includes(day)) throw new BeepkitError('E_KEY', `keys of day ${day} were renounced`);
  const e = epochFor(state, day);
  if (day - e.fromDay > MAX_RATCHET_STEPS) throw new BeepkitError('E_RANGE', `day ${day} is more than ${MAX_RATCHET_STEPS} days after its epoch`);
  return ratchet(e.chainKey, day - e.fromDay);
}

/** Per-day keys from a day chain key (exported for vectors and the wearable transfer). */
export function dayKeysFromChain(chainKey: Uint8Array, day: number): DayKeys {
  checkDay(day);
  const signingSeed = hkdf(chainKey, undefined, `beepkit/v1/keys/ed25519-pseudonym/day=${day}`, 32);
  const tek = hkdf(chainKey, undefined, `beepkit/v1/keys/en-tek/day=${day}`, 16);
  const ephemeralPriv = hkdf(chainKey, undefined, `beepkit/v1/keys/x25519-ephemeral/day=${day}`, 32);
  return {
    day,
    signingSeed,
    pseudonym: new Ed25519Signer(signingSeed).publicKey,
    tek,
    ephemeralPriv,
    ephemeralPub: x25519PublicKey(ephemeralPriv),
  };
}

export function deriveDayKeys(state: KeystoreState, day: number): DayKeys {
  return dayKeysFromChain(dayChainKey(state, day), day);
}

export function renounceDay(state: KeystoreState, day: number): KeystoreState {
  checkDay(day);
  if (state.renounced.includes(day)) return state;
  return { ...state, renounced: [...state.renounced, day].sort((a, b) => a - b) };
}

/** First day still retained on `today`. */
export function retentionCutoff(state: KeystoreState, today: number): number {
  return Math.max(0, today - state.retentionDays + 1);
}

/** Destroys every day before the retention window (ratchets chain keys forward). */
export function purgeKeystore(state: KeystoreState, today: number): KeystoreState {
  checkDay(today, 'today');
  const cutoff = retentionCutoff(state, today);
  const epochs: MasterEpoch[] = [];
  state.epochs.forEach((e, i) => {
    const next = state.epochs[i + 1];
    if (next && next.fromDay <= cutoff) return; // fully before the window: dropped
    if (e.fromDay >= cutoff) epochs.push(e);
    else epochs.push({ fromDay: cutoff, chainKey: ratchet(e.chainKey, cutoff - e.fromDay) });
  });
  return { ...state, epochs, renounced: state.renounced.filter((d) => d >= cutoff) };
}

/** A new master applies from `fromDay` onward (later epochs are replaced). */
export function rotateMaster(state: KeystoreState, master: Uint8Array, fromDay: number): KeystoreState {
  checkMaster(master);
  checkDay(fromDay, 'fromDay');
  if (fromDay < state.epochs[0].fromDay) throw new BeepkitError('E_RANGE', `cannot rotate before the first retained day ${state.epochs[0].fromDay}`);
  const epochs = state.epochs.filter((e) => e.fromDay < fromDay);
  epochs.push({ fromDay, chainKey: master.slice() });
  return { ...state, epochs };
}

export function setRetention(state: KeystoreState, retentionDays: number): KeystoreState {
  checkRetention(retentionDays);
  return { ...state, retentionDays };
}

export { checkRetention, checkMaster };
