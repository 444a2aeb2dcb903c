/**
 * Scenario clocks for running the agent inside a simulated field trial: its
 * notion of "now" (GNSS ages, venue slots, TraceCode intervals, visits,
 * certificates) follows the scenario, while its timers keep real time. The
 * clocks are the sim's (firmware-stubs/src/sim/clock-client.ts), shared with
 * the gateway and the wearable; `clock:` config `{ url, pollMs? }` or
 * `{ epochMs, speed, wallMs }`.
 */
import { clockFromSpec, type ScenarioClock } from '@beepkit/firmware-stubs/clock';
import type { AgentConfig } from '../config/index.ts';

export { ControlApiClock, LinearClock } from '@beepkit/firmware-stubs/clock';
export type AgentClock = ScenarioClock;
export type ClockConfig = NonNullable<AgentConfig['clock']>;

/** The clock a config asks for (undefined: the host clock). */
export function clockFromConfig(c: AgentConfig['clock']): AgentClock | undefined {
  return clockFromSpec(c, 500);
}
