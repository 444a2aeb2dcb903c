/**
 * When to seal a TraceCode (BeepTrace steps 4–5 and VI-B): at most one per
 * interval (default 30 min) of the UTC day, only with a fresh, trusted
 * location and a certificate valid for today and now, and none while
 * stationary (same generalised cell as the last TraceCode). Pure; time injected.
 */
import { generalise, levelCode, type Fix, type Geodata, type LevelCode, type LevelName, type Perturbation } from '@beepkit/protocol/geodata';
import { BeepkitError } from '@beepkit/protocol/errors';

export const DAY_MS = 86_400_000;

export interface PublisherConfig {
  intervalMs?: number;
  level: LevelName | LevelCode;
  perturb?: Perturbation;
  /** A fix whose window ended longer ago than this is no location (default: one interval). */
  maxFixAgeMs?: number;
}

export interface CertValidity {
  /** UTC day number the certificate binds. */
  day: number;
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
}

export interface PublishState {
  last?: { day: number; interval: number; cell: string };
}

export interface PublishInput {
  now: number;
  fix?: Fix;
  trusted: boolean;
  cert?: CertValidity;
}

export type PublishReason = 'seal' | 'no-location' | 'stale-location' | 'untrusted' | 'no-certificate' | 'certificate-invalid' | 'already-sealed' | 'stationary';

export interface PublishDecision {
  seal: boolean;
  reason: PublishReason;
  day: number;
  interval: number;
  cell?: string;
  geodata?: Geodata;
}

export function intervalMsOf(cfg: PublisherConfig): number {
  const ms = cfg.intervalMs ?? 30 * 60_000;
  if (!(Number.isInteger(ms) && ms >= 60_000 && ms <= DAY_MS && DAY_MS % ms === 0)) throw new BeepkitError('E_CONFIG', `publisher: intervalMs ${ms} must divide a day and be ≥ 1 min`);
  return ms;
}

/** The generalised cell of a fix (unperturbed), as a comparable key. */
export function cellOf(fix: Fix, level: LevelName | LevelCode): string {
  const g = generalise(fix, level);
  const venue = g.venue ? Buffer.from(g.venue).toString('hex') : '';
  return `${levelCode(level)}:${g.lat}:${g.lon}:${venue}`;
}

export function decidePublish(cfg: PublisherConfig, state: PublishState, input: PublishInput): PublishDecision {
  const intervalMs = intervalMsOf(cfg);
  const day = Math.floor(input.now / DAY_MS);
  const interval = Math.floor((input.now - day * DAY_MS) / intervalMs);
  const no = (reason: PublishReason): PublishDecision => ({ seal: false, reason, day, interval });
  if (!input.fix) return no('no-location');
  if (input.now - input.fix.end * 1000 > (cfg.maxFixAgeMs ?? intervalMs)) return no('stale-location');
  if (!input.trusted) return no('untrusted');
  if (!input.cert) return no('no-certificate');
  const secs = Math.floor(input.now / 1000);
  if (input.cert.day !== day || secs < input.cert.notBefore || secs > input.cert.notAfter) return no('certificate-invalid');
  if (state.last && state.last.day === day && state.last.interval === interval) return no('already-sealed');
  const cell = cellOf(input.fix, cfg.level);
  if (state.last && state.last.cell === cell) return { ...no('stationary'), cell };
  return { seal: true, reason: 'seal', day, interval, cell, geodata: generalise(input.fix, cfg.level, { perturb: cfg.perturb }) };
}
