/**
 * Jittered exponential backoff, one formula for every retry loop: the delay
 * before retry `attempt` (0-based) is uniform in [ceiling/2, ceiling), with
 * ceiling = min(maxMs, initialMs · 2^min(attempt, 20)); what `o` leaves out
 * comes from `defaults`. `random` in [0, 1) (seed it in tests).
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** The MQTT clients' reconnect backoff (agent and gateway): 200 ms doubling to 10 s. */
export const MQTT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

export function jitteredBackoffMs(attempt: number, o: Partial<BackoffOptions> | undefined, defaults: BackoffOptions, random: () => number): number {
  const { initialMs = defaults.initialMs, maxMs = defaults.maxMs } = o ?? {};
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** One retry at a time, each after the next jittered backoff delay; `reset()` after a success, `cancel()` on stop. */
export class RetryTimer {
  #attempt = 0;
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly o: Partial<BackoffOptions> | undefined,
    private readonly defaults: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** Runs `fn` after the next delay, replacing any pending retry; returns the delay (ms). */
  schedule(fn: () => void): number {
    clearTimeout(this.#timer);
    const delay = Math.round(jitteredBackoffMs(this.#attempt, this.o, this.defaults, this.random));
    this.#attempt++;
    this.#timer = setTimeout(fn, delay);
    return delay;
  }

  /** The next delay starts again from the first. */
  reset(): void {
    this.#attempt = 0;
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
