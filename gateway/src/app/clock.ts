/**
 * Scenario clocks for `beepkit gateway run` inside a simulated field trial
 * (the HIL suites run the gateway as a child process next to the sim): the
 * gateway's notion of "now" (ingest skew, CA slot windows and fix ages,
 * venue states) follows the scenario, its timers keep real time. The same
 * two forms as the agent's `clock:` config:
 *
 *  - `{ url, pollMs? }`: the sim's control API `GET …/clock` ({now, speed,
 *    paused}), polled every pollMs (default 250); interpolated in between, a
 *    paused sim is a paused gateway clock, and it never steps back by less
 *    than a poll's worth of jitter.
 *  - `{ epochMs, wallMs, speed? }`: now = epochMs + (Date.now() − wallMs) × speed.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface ClockSpec { url?: string; pollMs?: number; epochMs?: number; wallMs?: number; speed?: number }

export interface GatewayClock {
  now(): number;
  start(): Promise<void>;
  stop(): void;
}

/** Validates a `clock:` config value (E_CONFIG naming the field). */
export function checkClockSpec(k: unknown): void {
  const fail = (f: string, m: string): never => {
    throw new BeepkitError('E_CONFIG', `config clock${f}: ${m}`);
  };
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return fail('', 'must be { url } or { epochMs, wallMs, speed }');
  const o = k as Record<string, unknown>;
  for (const f of Object.keys(o)) if (!['url', 'pollMs', 'epochMs', 'wallMs', 'speed'].includes(f)) fail(`.${f}`, 'unknown field');
  const num = (f: string, min: number, max: number, optional: boolean): void => {
    const v = o[f];
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(`.${f}`, `must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
  };
  if (o.url !== undefined) {
    if (typeof o.url !== 'string' || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(o.url)) fail('.url', 'must be a loopback http:// URL');
    num('pollMs', 50, 60_000, true);
    return;
  }
  num('epochMs', 0, 2 ** 47, false);
  num('wallMs', 0, 2 ** 47, false);
  num('speed', 0.001, 100_000, true);
}

/** Follows a sim's control API clock. */
export class ControlApiClock implements GatewayClock {
  #s?: { now: number; speed: number; paused: boolean; at: number };
  #timer?: NodeJS.Timeout;
  constructor(private readonly url: string, private readonly pollMs = 250) {}

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
    const next = { now: j.now, speed: j.speed, paused: j.paused === true, at: Math.round((t0 + Date.now()) / 2) };
    const mine = this.#s ? this.now() : -Infinity;
    if (!next.paused && mine > next.now && mine - next.now < this.pollMs * next.speed) Object.assign(next, { now: mine, at: Date.now() });
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

/** The clock a `clock:` config asks for (undefined: the host clock). */
export function clockFromSpec(k: ClockSpec | undefined): GatewayClock | undefined {
  if (!k) return undefined;
  if (k.url) return new ControlApiClock(k.url, k.pollMs);
  const { epochMs, wallMs, speed = 1 } = k as Required<Pick<ClockSpec, 'epochMs' | 'wallMs'>> & ClockSpec;
  return { now: () => Math.floor(epochMs + (Date.now() - wallMs) * speed), start: async () => {}, stop: () => {} };
}
