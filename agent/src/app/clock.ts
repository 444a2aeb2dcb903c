/**
 * Scenario clocks for running the agent inside a simulated field trial: its
 * notion of "now" (GNSS ages, venue slots, TraceCode intervals, visits,
 * certificates) follows the scenario, while its timers keep real time. The
 * clocks (time/scenario-clock.ts, @beepkit/protocol/clock-spec) are shared with
 * the gateway and the wearable; `clock:` config `{ url, pollMs? }` or
 * `{ epochMs, speed, wallMs }`.
 */
import type { ScenarioClock } from '@beepkit/protocol/clock-spec';
import { clockFromSpec } from '@beepkit/device-core/clock';
import type { AgentConfig } from '../config/index.ts';

export { ControlApiClock } from '@beepkit/device-core/clock';
export { LinearClock } from '@beepkit/protocol/clock-spec';
export type AgentClock = ScenarioClock;
export type ClockConfig = NonNullable<AgentConfig['clock']>;

/** The clock a config asks for (undefined: the host clock). */
export function clockFromConfig(c: AgentConfig['clock']): AgentClock | undefined {
  return clockFromSpec(c, 500);
}
