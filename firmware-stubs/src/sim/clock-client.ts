/**
 * Scenario clocks: how a process run inside a simulated field trial (agent,
 * gateway, wearable) follows the sim's scenario time while its timers keep
 * real time. The `clock:` config (and `--clock-url`) of those apps:
 *
 *  - `{ url, pollMs? }`: the sim's control API `GET …/clock` ({now, speed,
 *    paused}), polled every pollMs; interpolated in between, so a paused sim
 *    is a paused clock, and it never steps back by less than a poll's worth
 *    of jitter.
 *  - `{ epochMs, wallMs, speed? }`: now = epochMs + (host clock − wallMs) × speed.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface ClockSpec { url?: string; pollMs?: number; epochMs?: number; wallMs?: number; speed?: number }

export interface ScenarioClock {
  now(): number;
  /** Scenario ms per real ms (1 for the host clock). */
  readonly speed: number;
  start(): Promise<void>;
  stop(): void;
}

/** Validates a `clock:` config value: E_CONFIG naming the field (`config clock.url: …`). */
export function checkClockSpec(k: unknown, field = 'clock'): void {
  const fail = (f: string, m: string): never => {
    throw new BeepkitError('E_CONFIG', `config ${field}${f}: ${m}`);
  };
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return fail('', 'must be { url } or { epochMs, wallMs, speed }');
  const o = k as Record<string, unknown>;
  for (const f of Object.keys(o)) if (!['url', 'pollMs', 'epochMs', 'wallMs', 'speed'].includes(f)) fail(`.${f}`, 'unknown field');
  const num = (f: string, min: number, max: number, optional: boolean, integer = true): void => {
    const v = o[f];
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      fail(`.${f}`, `must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${JSON.stringify(v)}`);
    }
  };
  if (o.url !== undefined) {
    if (typeof o.url !== 'string' || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(o.url)) fail('.url', 'must be a loopback http:// URL');
    num('pollMs', 50, 60_000, true);
    return;
  }
  num('epochMs', 0, 2 ** 47, false);
  num('wallMs', 0, 2 ** 47, false);
  num('speed', 0.001, 100_000, true, false);
}

interface Sample { now: number; speed: number; paused: boolean; at: number }

/** Follows a sim's control API clock (GET <url> → {now, speed, paused}). */
export class ControlApiClock implements ScenarioClock {
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
    const next: Sample = { now: j.now, speed: j.speed, paused: j.paused === true, at: Math.round((t0 + Date.now()) / 2) };
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
export class LinearClock implements ScenarioClock {
  constructor(private readonly epochMs: number, readonly speed: number, private readonly wallMs: number) {}
  now(): number {
    return Math.floor(this.epochMs + (Date.now() - this.wallMs) * this.speed);
  }
  async start(): Promise<void> {}
  stop(): void {}
}

/** The clock a `clock:` config asks for (undefined: the host clock); `defaultPollMs` when it names none. */
export function clockFromSpec(k: ClockSpec | undefined, defaultPollMs?: number): ScenarioClock | undefined {
  if (!k) return undefined;
  if (k.url) return new ControlApiClock(k.url, k.pollMs ?? defaultPollMs);
  return new LinearClock(k.epochMs!, k.speed ?? 1, k.wallMs!);
}
