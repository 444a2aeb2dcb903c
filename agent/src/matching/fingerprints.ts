/**
 * Fingerprint self-matching (BeepTrace step 12): the agent's own pseudonym
 * prefixes of the retention window, fingerprinted, against a notification
 * block's packed fingerprint list. The block is scanned in place.
 */
import { fingerprint } from '@beepkit/protocol/tracecode';
import { BeepkitError } from '@beepkit/protocol/errors';
import type { RiskLevel } from '../risk/cwa.ts';
import { Set16 } from './set16.ts';

export type { RiskLevel };
/** Risk level codes on the notification chain: 0 none, 1 low, 2 high. */
export const RISK_CODE: Record<RiskLevel, number> = { low: 1, high: 2 };
export const DAY_MS = 86_400_000;

export function riskOfCode(code: number): RiskLevel | undefined {
  return code === 2 ? 'high' : code === 1 ? 'low' : undefined;
}

export function maxLevel(a: RiskLevel | undefined, b: RiskLevel | undefined): RiskLevel | undefined {
  return a === 'high' || b === 'high' ? 'high' : (a ?? b);
}

/** Columnar notification block: n fingerprints (n × 16 bytes), a level code and a UTC day number each. */
export interface FingerprintBlock {
  fingerprints: Uint8Array;
  levels: Uint8Array;
  days: ArrayLike<number>;
}

/** Packs entries into the columnar block form (for solvers, feeds and tests). */
export function packFingerprintBlock(entries: { fingerprint: Uint8Array; level: RiskLevel | 'none'; day: number }[]): FingerprintBlock {
  const block = { fingerprints: new Uint8Array(entries.length * 16), levels: new Uint8Array(entries.length), days: new Uint32Array(entries.length) };
  entries.forEach((e, i) => {
    if (e.fingerprint.length !== 16) throw new BeepkitError('E_RANGE', `fingerprint ${i} must be 16 bytes`);
    block.fingerprints.set(e.fingerprint, i * 16);
    block.levels[i] = e.level === 'none' ? 0 : RISK_CODE[e.level];
    block.days[i] = e.day;
  });
  return block;
}

export interface OwnPrefix {
  /** UTC day number (days since the Unix epoch). */
  day: number;
  prefix: Uint8Array;
}

export interface FingerprintMatch {
  kind: 'fingerprint';
  day: number;
  level: RiskLevel;
}

export interface OwnFingerprintOptions {
  /** Now, ms since epoch (injected). */
  now: number;
  retentionDays?: number;
  fingerprintOf?: (prefix: Uint8Array) => Uint8Array;
}

/** The agent's own fingerprints of the retention window (a tiny set). */
export class OwnFingerprints {
  readonly set: Set16;
  readonly days: number[];
  constructor(prefixes: OwnPrefix[], opts: OwnFingerprintOptions) {
    const today = Math.floor(opts.now / DAY_MS);
    const keep = prefixes.filter((p) => p.day <= today && p.day > today - (opts.retentionDays ?? 14));
    const fp = opts.fingerprintOf ?? fingerprint;
    this.set = new Set16(keep.map((p) => fp(p.prefix)));
    this.days = keep.map((p) => p.day);
  }
}

/** Matches one block; one result per (day) with the highest level found. */
export function matchFingerprints(own: OwnFingerprints, block: FingerprintBlock): FingerprintMatch[] {
  const n = block.fingerprints.length / 16;
  if (block.levels.length !== n || block.days.length !== n)
    throw new BeepkitError('E_RANGE', `fingerprint block: ${n} fingerprints but ${block.levels.length} levels and ${block.days.length} days`);
  const byDay = new Map<number, RiskLevel>();
  own.set.scan(block.fingerprints, (i, k) => {
    const level = riskOfCode(block.levels[i]);
    if (!level) return;
    const day = block.days[i] || own.days[k];
    byDay.set(day, maxLevel(byDay.get(day), level)!);
  });
  return [...byDay].sort((a, b) => a[0] - b[0]).map(([day, level]) => ({ kind: 'fingerprint', day, level }));
}
