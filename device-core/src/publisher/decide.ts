/**
 * When to start a TraceCode (BeepTrace steps 4–5 and VI-B): at most one
 * decision per interval (default 30 min) of the UTC day, only with a fresh,
 * trusted location and a certificate valid for today and now.
 *
 * A TraceCode stands for a *stay*: the time the device spent in one
 * generalised cell. A decision either opens a new stay ('seal': the device is
 * in another cell than at the previous decision, or the previous decision was
 * not in the interval just before — whereabouts in a gap are unknown) or
 * extends the open one ('stationary': same cell, next interval; no new
 * geodata is generated, BeepTrace's battery rule). The Publisher seals a
 * stay's TraceCode when the stay ends, with the geodata time window covering
 * the whole stay, so the solver can measure overlaps. Pure; time injected.
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
  /**
   * A stay longer than this many intervals is sealed and a new one starts, to
   * bound the latency (and the loss on a crash) of a long stationary span
   * (default 4: 2 h at 30 min, i.e. one TraceCode per 2 h instead of 4).
   */
  maxStayIntervals?: number;
}

export interface CertValidity {
  /** UTC day number the certificate binds. */
  day: number;
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
}

/** A stay whose TraceCode is not sealed yet. Times are Unix seconds. */
export interface Stay {
  day: number;
  /** The interval the stay opened in: the TraceCode's interval number (unique per pseudonym-day). */
  interval: number;
  /** The last interval whose decision found the device in this cell. */
  lastInterval: number;
  cell: string;
  /** Generalised at the opening fix; its window is replaced by [start, end] when sealed. */
  geodata: Geodata;
  /** First and last time the device was seen (trusted fix) in this cell during the stay. */
  start: number;
  end: number;
}

export interface PublishState {
  /** The last decision that placed the device (opened or extended a stay). */
  last?: { day: number; interval: number; cell: string };
  stay?: Stay;
}

export interface PublishInput {
  now: number;
  fix?: Fix;
  trusted: boolean;
  cert?: CertValidity;
}

export type PublishReason =
  'seal' | 'no-location' | 'stale-location' | 'untrusted' | 'no-certificate' | 'certificate-invalid' | 'already-sealed' | 'stationary';

export interface PublishDecision {
  seal: boolean;
  reason: PublishReason;
  day: number;
  interval: number;
  cell?: string;
  /** The generalised fix ('seal' and 'stationary'). */
  geodata?: Geodata;
}

export function maxStayIntervalsOf(cfg: PublisherConfig): number {
  const n = cfg.maxStayIntervals ?? 4;
  if (!(Number.isInteger(n) && n >= 1)) throw new BeepkitError('E_CONFIG', `publisher: maxStayIntervals ${n} must be an integer ≥ 1`);
  return n;
}

export function intervalMsOf(cfg: PublisherConfig): number {
  const ms = cfg.intervalMs ?? 30 * 60_000;
  if (!(Number.isInteger(ms) && ms >= 60_000 && ms <= DAY_MS && DAY_MS % ms === 0))
    throw new BeepkitError('E_CONFIG', `publisher: intervalMs ${ms} must divide a day and be ≥ 1 min`);
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
  // a new day (new pseudonym) or a missed interval opens a new stay
  const geodata = generalise(input.fix, cfg.level, { perturb: cfg.perturb });
  if (state.last && state.last.day === day && state.last.interval === interval - 1 && state.last.cell === cell) return { ...no('stationary'), cell, geodata };
  return { seal: true, reason: 'seal', day, interval, cell, geodata };
}
