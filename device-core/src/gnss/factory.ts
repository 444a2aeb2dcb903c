import { BeepkitError } from '@beepkit/protocol';
import type { GnssSource } from './types.ts';
import { SerialGnssSource, type SerialGnssOptions } from './serial.ts';
import { GpsdGnssSource, type GpsdGnssOptions } from './gpsd.ts';
import { ReplayGnssSource, type ReplayGnssOptions } from './replay.ts';

export type GnssSourceConfig = ({ type: 'serial' } & SerialGnssOptions) | ({ type: 'gpsd' } & GpsdGnssOptions) | ({ type: 'replay' } & ReplayGnssOptions);

/** Picks the GNSS source implementation from configuration. Throws E_CONFIG for an unknown type. */
export function createGnssSource(config: GnssSourceConfig): GnssSource {
  switch (config.type) {
    case 'serial':
      if (!config.path) throw new BeepkitError('E_CONFIG', 'gnss serial source needs a path');
      return new SerialGnssSource(config);
    case 'gpsd':
      return new GpsdGnssSource(config);
    case 'replay':
      if (!config.file) throw new BeepkitError('E_CONFIG', 'gnss replay source needs a file');
      return new ReplayGnssSource(config);
    default:
      throw new BeepkitError('E_CONFIG', `unknown gnss source type ${JSON.stringify((config as { type?: unknown }).type)}`);
  }
}
