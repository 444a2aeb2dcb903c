/** Rig files: load, validate, and treat a virtual rig as a real one. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { BeepkitError } from '@beepkit/protocol';
import { parseRig, type Rig } from './schema.ts';

export * from './schema.ts';

/** Reads and validates a rig file (E_CONFIG naming the field on any problem). */
export function loadRig(file: string): Rig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `rig file ${file}: ${(cause as Error).message}`, { cause });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `rig file ${file}: not YAML: ${(cause as Error).message}`, { cause });
  }
  return parseRig(doc, (keyFile, field) => {
    try {
      return readFileSync(isAbsolute(keyFile) ? keyFile : resolve(dirname(file), keyFile), 'utf8');
    } catch (cause) {
      throw new BeepkitError('E_CONFIG', `rig ${field}: ${(cause as Error).message}`, { cause });
    }
  });
}

/**
 * The same rig seen as a bench of real devices: serial paths only, no control
 * API. The clock stays: it is what the hardware's GNSS and beacons keep.
 */
export function asRealRig(rig: Rig): Rig {
  return {
    kind: 'real',
    name: rig.name,
    fixedPositions: false,
    devices: rig.devices,
    venues: rig.venues,
    ...(rig.clock ? { clock: rig.clock } : {}),
    ...(rig.broker ? { broker: rig.broker } : {}),
  };
}
