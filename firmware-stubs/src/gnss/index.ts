export type { GnssClock } from './types.ts';
export { GnssEmulator, systemClock, type GnssEmulatorOptions, type GnssFault, type ScheduledFault } from './emulator.ts';
export {
  ReceiverModel,
  seededRng,
  trajectoryAt,
  ALL_SENTENCES,
  type Position,
  type Waypoint,
  type Trajectory,
  type SentenceType,
  type EpochState,
} from './model.ts';
export { replayLog, splitKeepingEol, type ReplayOptions } from './replay.ts';
export { PtyWriter } from '../pty.ts';
