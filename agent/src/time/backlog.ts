/**
 * Publisher ticks taken while the agent's time was not trusted, kept on the
 * monotonic clock: once time is good, each is given its true time (now − its
 * monotonic age) and sealed under the right day and interval. In memory and
 * bounded (one tick per `everyMs`, at most `max`): a restart while time is
 * untrusted loses the backlog, as does a day whose certificate can no longer
 * be asked for (the CA certifies today only): both counted.
 */
export interface BackloggedTick<T> {
  mono: number;
  /** The (untrusted) time the tick was taken at, ms. */
  at: number;
  item: T;
}

export class TimeBacklog<T> {
  readonly #items: BackloggedTick<T>[] = [];
  dropped = 0;
  constructor(
    private readonly mono: () => number,
    private readonly everyMs = 10_000,
    private readonly max = 8640,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  push(at: number, item: T): void {
    const m = this.mono();
    const last = this.#items[this.#items.length - 1];
    if (last && m - last.mono < this.everyMs) return;
    if (this.#items.length >= this.max) {
      this.#items.shift();
      this.dropped++;
    }
    this.#items.push({ mono: m, at, item });
  }

  /**
   * Oldest first, each with its true time given the good `now` (ms) and the shift from its recorded
   * time; `ready(trueAt)` says whether it can be sealed now, must wait (it and all after it stay), or
   * can never be (dropped, counted).
   */
  take(now: number, ready: (trueAt: number) => 'now' | 'wait' | 'drop'): { trueAt: number; shift: number; item: T }[] {
    const m = this.mono();
    const out: { trueAt: number; shift: number; item: T }[] = [];
    while (this.#items.length) {
      const e = this.#items[0];
      const trueAt = Math.round(now - (m - e.mono));
      const r = ready(trueAt);
      if (r === 'wait') break;
      this.#items.shift();
      if (r === 'drop') this.dropped++;
      else out.push({ trueAt, shift: trueAt - e.at, item: e.item });
    }
    return out;
  }
}
