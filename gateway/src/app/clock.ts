/**
 * Scenario clocks for `beepkit gateway run` inside a simulated field trial
 * (the HIL suites run the gateway as a child process next to the sim): the
 * gateway's notion of "now" (ingest skew, CA slot windows and fix ages, venue
 * states) follows the scenario, its timers keep real time. The clocks and the
 * `clock:` validation are the sim's (firmware-stubs/src/sim/clock-client.ts),
 * shared with the agent and the wearable; the gateway polls every 250 ms.
 */
import { clockFromSpec as fromSpec, type ClockSpec, type ScenarioClock } from '@beepkit/firmware-stubs/clock';

export { checkClockSpec, ControlApiClock, type ClockSpec } from '@beepkit/firmware-stubs/clock';
export type GatewayClock = ScenarioClock;

/** The clock a `clock:` config asks for (undefined: the host clock). */
export function clockFromSpec(k: ClockSpec | undefined): GatewayClock | undefined {
  return fromSpec(k, 250);
}
