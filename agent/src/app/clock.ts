/**
 * Scenario clocks for running the agent inside a simulated field trial: its
 * notion of "now" (GNSS ages, venue slots, TraceCode intervals, visits,
 * certificates) follows the scenario, while its timers keep real time.
 *
 *  - `{ url }`: the sim's control API `GET /clock` ({now, speed, paused}),
 *    polled every `pollMs`; between polls time is interpolated, so a paused
 *    sim is a paused agent.
 *  - `{ epochMs, speed, wallMs }`: now = epochMs + (Date.now() − wallMs) × speed.
 */
import { BeepkitError } from '@beepkit/protocol';
import type { AgentConfig } from '../config/index.ts';

export interface AgentClock {
  now(): number;
  /** Scenario ms per real ms (1 for the host clock). */
  readonly speed: number;
  start(): Promise<void>;
  stop(): void;
}

export type ClockConfig = NonNullable<AgentConfig['clock']>;

interface Sample {
  now: number;
  speed: number;
  paused: boolean;
  at: number;
}

/** Follows a sim's control API clock (GET <url> → {now, speed, paused}). */
export class ControlApiClock implements AgentClock {
  #s?: Sample;
  #timer?: NodeJS.Timeout;
  constructor(private readonly url: string, private readonly pollMs = 500) {}

  get speed(): number {
    return this.#s?.speed ?? 1;
  }

  now(): number {
    const s = this.#s;
    if (!s) return Date.now();
    return s.paused ? s.now : Math.floor(s.now + (Date.now() - s.at) * s.speed);
  }

  async #sync(): Promise<void> {
    const t0 = Date.now();
    const r = await fetch(this.url, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new BeepkitError('E_IO', `clock ${this.url}: HTTP ${r.status}`);
    const j = (await r.json()) as { now?: unknown; speed?: unknown; paused?: unknown };
    if (typeof j.now !== 'number' || typeof j.speed !== 'number') throw new BeepkitError('E_FORMAT', `clock ${this.url}: no now/speed`);
    const at = Math.round((t0 + Date.now()) / 2);
    const next: Sample = { now: j.now, speed: j.speed, paused: j.paused === true, at };
    // never step backwards by less than a poll's worth of jitter
    const mine = this.#s ? this.now() : -Infinity;
    if (!next.paused && mine > next.now && mine - next.now < this.pollMs * next.speed) {
      next.now = mine;
      next.at = Date.now();
    }
    this.#s = next;
  }

  async start(): Promise<void> {
    try {
      await this.#sync();
    } catch (cause) {
      throw new BeepkitError('E_IO', `clock: cannot read ${this.url}: ${(cause as Error).message}`, { cause });
    }
    this.#timer = setInterval(() => void this.#sync().catch(() => {}), this.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** A fixed mapping from wall time to scenario time. */
export class LinearClock implements AgentClock {
  constructor(private readonly epochMs: number, readonly speed: number, private readonly wallMs: number) {}
  now(): number {
    return Math.floor(this.epochMs + (Date.now() - this.wallMs) * this.speed);
  }
  async start(): Promise<void> {}
  stop(): void {}
}

/** The clock a config asks for (undefined: the host clock). */
export function clockFromConfig(c: AgentConfig['clock']): AgentClock | undefined {
  if (!c) return undefined;
  if (c.url) return new ControlApiClock(c.url, c.pollMs);
  return new LinearClock(c.epochMs!, c.speed ?? 1, c.wallMs!);
}
