/**
 * The scenario clock: scenario time runs at `speed` × real elapsed time and can
 * be paused. Scenario time 0 is `startTime` (UTC ms, default today 09:00Z).
 * Everything in the sim that reports time (GNSS timestamps, venue-frame slots,
 * EN intervals, the rig file) reads this clock; BLE stacks keep real timers.
 */
import type { GnssClock } from '../gnss/types.ts';

export interface ScenarioClockOptions {
  speed?: number;
  /** UTC ms of scenario time 0 (default: today 09:00Z). */
  startTime?: number;
  /** Real monotonic time source in ms (default performance.now); injectable for tests. */
  realNow?: () => number;
}

/** Today's date at 09:00 UTC, as UTC ms. */
export function defaultStartTime(now = Date.now()): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 9, 0, 0);
}

export class ScenarioClock {
  readonly speed: number;
  readonly startTime: number;
  private readonly realNow: () => number;
  /** Real time at which the clock was (re)started, and scenario ms accumulated before. */
  private anchor = 0;
  private base = 0;
  private running = false;

  constructor(o: ScenarioClockOptions = {}) {
    this.speed = o.speed ?? 1;
    this.startTime = o.startTime ?? defaultStartTime();
    this.realNow = o.realNow ?? (() => performance.now());
  }

  get paused(): boolean {
    return !this.running;
  }

  /** Starts (or resumes) the clock. Idempotent. */
  resume(): void {
    if (this.running) return;
    this.anchor = this.realNow();
    this.running = true;
  }

  /** Freezes scenario time. Idempotent. */
  pause(): void {
    if (!this.running) return;
    this.base = this.elapsedMs();
    this.running = false;
  }

  /** Scenario ms since scenario start. */
  elapsedMs(): number {
    return this.running ? this.base + (this.realNow() - this.anchor) * this.speed : this.base;
  }

  /** Scenario seconds since scenario start. */
  elapsedSeconds(): number {
    return this.elapsedMs() / 1000;
  }

  /** Scenario epoch time (UTC ms, whole). */
  now(): number {
    return this.startTime + Math.floor(this.elapsedMs());
  }

  /** Real ms until the scenario clock has advanced by `scenarioMs` (Infinity while paused). */
  realDelay(scenarioMs: number): number {
    return this.running ? scenarioMs / this.speed : Infinity;
  }

  /** A GnssClock view: now() in scenario time, timers scaled to scenario time (real timers, unref'd). */
  gnssClock(): GnssClock {
    return {
      now: () => this.now(),
      setTimeout: (fn, ms) => {
        const t = setTimeout(fn, Math.max(0, Math.min(2 ** 31 - 1, ms / this.speed)));
        t.unref();
        return t;
      },
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
  }

  toJSON(): { now: number; iso: string; elapsed: number; speed: number; paused: boolean; startTime: number } {
    const now = this.now();
    return { now, iso: new Date(now).toISOString(), elapsed: this.elapsedSeconds(), speed: this.speed, paused: this.paused, startTime: this.startTime };
  }
}
