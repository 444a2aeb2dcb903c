/**
 * The `clock:` spec of the apps run inside a simulated field trial (agent,
 * gateway, wearable): `{ url, pollMs? }` follows the sim's control API clock
 * (agent/src/time/scenario-clock.ts, ControlApiClock), `{ epochMs, wallMs,
 * speed? }` is a fixed mapping: now = epochMs + (host clock − wallMs) × speed.
 * Here: the spec, its check, the clock interface and the linear clock (it reads
 * the host clock through clock.ts).
 */
import { BeepkitError } from './errors.ts';
import { hostNow } from './clock.ts';

export interface ClockSpec {
  url?: string;
  pollMs?: number;
  epochMs?: number;
  wallMs?: number;
  speed?: number;
}

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

/** A fixed mapping from wall time to scenario time. */
export class LinearClock implements ScenarioClock {
  constructor(
    private readonly epochMs: number,
    readonly speed: number,
    private readonly wallMs: number,
  ) {}
  now(): number {
    return Math.floor(this.epochMs + (hostNow() - this.wallMs) * this.speed);
  }
  async start(): Promise<void> {}
  stop(): void {}
}
