export { Sim, type SimOptions } from './sim.ts';
export type { SimEvent, DeviceLine, SimView } from './types.ts';
export { ScenarioClock, defaultStartTime, type ScenarioClockOptions } from './clock.ts';
export { ControlServer } from './control.ts';
export { rigDocument, writeRig, RIG_VERSION } from './rig.ts';
export { applyFault, gnssFault, powerCycle, type FaultTarget, type FaultEffect } from './faults.ts';
export { simulatedVenueId, venuePayload, venueFrames, crowdTek, enIdentity, controllerAddress, EN_FLAGS, type EnIdentity } from './payloads.ts';
