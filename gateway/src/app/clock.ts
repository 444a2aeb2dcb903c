/**
 * Scenario clocks for `beepkit gateway run` inside a simulated field trial
 * (the HIL suites run the gateway as a child process next to the sim): the
 * gateway's notion of "now" (ingest skew, CA slot windows and fix ages, venue
 * states) follows the scenario, its timers keep real time. The `clock:` spec and
 * its validation are @beepkit/protocol/clock-spec, the control API clock the
 * device core's (@beepkit/device-core/clock), shared with the agent and the wearable; the gateway polls
 * every 250 ms.
 */
import type { ClockSpec, ScenarioClock } from '@beepkit/protocol/clock-spec';
import { clockFromSpec as fromSpec } from '@beepkit/device-core/clock';

export { checkClockSpec, type ClockSpec } from '@beepkit/protocol/clock-spec';
export { ControlApiClock } from '@beepkit/device-core/clock';
export type GatewayClock = ScenarioClock;

/** The clock a `clock:` config asks for (undefined: the host clock). */
export function clockFromSpec(k: ClockSpec | undefined): GatewayClock | undefined {
  return fromSpec(k, 250);
}
