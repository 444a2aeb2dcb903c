export type { GnssFix, GnssSource, GnssSourceEvents, GnssSourceKind, GnssState, GnssStateChange, GnssReject } from './types.ts';
export { GnssSourceBase, type GnssSourceBaseOptions } from './base.ts';
export { SerialGnssSource, mtkCommands, type SerialGnssOptions, type MtkSentence } from './serial.ts';
export { ReplayGnssSource, type ReplayGnssOptions } from './replay.ts';
export { GpsdGnssSource, type GpsdGnssOptions } from './gpsd.ts';
export { createGnssSource, type GnssSourceConfig } from './factory.ts';
