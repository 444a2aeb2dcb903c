/**
 * Token-bucket rate limiter keyed by an opaque string (a pseudonym-day, a venue).
 * Bounded memory: at most `maxKeys` buckets; the least recently used is evicted.
 * Time is injected (ms). Keeps nothing but a token count and a timestamp per key.
 */
export interface RateOptions {
  /** Bucket size (burst). */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RateLimiter {
  readonly #o: Required<RateOptions>;
  readonly #buckets = new Map<string, Bucket>();
  constructor(opts: RateOptions) {
    this.#o = { maxKeys: 100_000, ...opts };
  }

  /** Takes `cost` tokens for `key` at `nowMs`; false (and nothing taken) when there are not enough. */
  take(key: string, nowMs: number, cost = 1): boolean {
    const { burst, perSecond, maxKeys } = this.#o;
    let b = this.#buckets.get(key);
    if (b) {
      this.#buckets.delete(key);
      b.tokens = Math.min(burst, b.tokens + (Math.max(0, nowMs - b.atMs) / 1000) * perSecond);
      b.atMs = nowMs;
    } else {
      b = { tokens: burst, atMs: nowMs };
      if (this.#buckets.size >= maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }
}
