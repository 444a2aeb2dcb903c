/**
 * The host clock, read in one place. Every other module takes time as an
 * injected `now()` (ms since the epoch, UTC): apps wire either this host clock
 * or a scenario clock (agent/src/time/scenario-clock.ts) through every
 * component, so a field trial, a HIL run or a bench runs on one clock whatever
 * the host's hour, and a lint rule (eslint.config.js, `no-restricted-properties`
 * on `Date.now` and `new Date()` without arguments) keeps it that way.
 *
 * Elapsed-time measurements use `performance.now()` (monotonic), not this.
 */

/** A clock: UTC milliseconds since the epoch. */
export type Now = () => number;

/** The host's wall clock, ms. */
export const hostNow: Now = () => Date.now();

/** The host's wall clock, whole seconds. */
export const hostNowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Seconds of a ms clock. */
export const secondsOf =
  (now: Now): (() => number) =>
  () =>
    Math.floor(now() / 1000);

/**
 * A clock that reads `startMs` now and runs at real speed from here (on the
 * monotonic clock): tests pin the day and hour they run at, whatever the host's.
 */
export function clockFrom(startMs: number, speed = 1): Now {
  const p0 = performance.now();
  return () => Math.floor(startMs + (performance.now() - p0) * speed);
}
