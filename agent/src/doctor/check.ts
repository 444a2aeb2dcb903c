/**
 * `beepkit doctor`'s verdicts: each check is `{ name, ok, detail, hint }` (hint: what to do, empty when
 * ok). Every check runs under its own timeout, cut to what is left of the whole run's budget, so the run
 * always ends within `--timeout`: a check that does not finish in time fails with its timeout hint.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  hint: string;
}

export type Verdict = Omit<Check, 'name'>;

export const pass = (detail: string): Verdict => ({ ok: true, detail, hint: '' });
export const failed = (detail: string, hint: string): Verdict => ({ ok: false, detail, hint });

/**
 * The run's budget on the monotonic clock: `left()` ms remain (a margin kept for printing). `startedAt`:
 * when the run began on `performance.now()`'s clock (the CLI gives 0, the process's start, so the
 * start-up counts too).
 */
export class Budget {
  readonly #end: number;
  constructor(totalMs: number, startedAt = performance.now(), marginMs = 500) {
    this.#end = startedAt + Math.max(0, totalMs - marginMs);
  }
  left(): number {
    return Math.max(0, this.#end - performance.now());
  }
  /** A check's own timeout, cut to what is left. */
  cap(ms: number): number {
    return Math.max(1, Math.min(ms, this.left()));
  }
}

/** Resolves with `fn`'s verdict, or a failed one when it throws or takes longer than `ms`. */
export async function timed(name: string, ms: number, fn: () => Promise<Verdict>, onTimeout: { detail: string; hint: string }): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => resolve(failed(`${onTimeout.detail} (no verdict within ${(ms / 1000).toFixed(1)} s)`, onTimeout.hint)), ms);
  });
  try {
    const v = await Promise.race([fn().catch((e: unknown) => failed(errorText(e), onTimeout.hint)), late]);
    return { name, ...v };
  } finally {
    clearTimeout(timer);
  }
}

export function errorText(e: unknown): string {
  if (e instanceof BeepkitError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** Rejects with E_TIMEOUT after `ms` unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>(
      (_r, reject) => (timer = setTimeout(() => reject(new BeepkitError('E_TIMEOUT', `${what}: no answer within ${(ms / 1000).toFixed(1)} s`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

export const seconds = (ms: number): string =>
  Math.abs(ms) >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : Math.abs(ms) >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
export const utc = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
