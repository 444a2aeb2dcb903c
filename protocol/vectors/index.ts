/** Every vector file by name (protocol/vectors/<name>.json). */
import type { VectorFile } from './common.ts';
import { batchVectors, enVectors, keysVectors, traceCodeVectors, venueVectors } from './build-device.ts';
import { caVectors, carerVectors, certificateVectors, endorseVectors, ledgerVectors } from './build-gateway.ts';

export function allVectors(): Record<string, VectorFile> {
  return {
    'key-schedule': keysVectors(),
    'exposure-notification': enVectors(),
    'venue-frame': venueVectors(),
    tracecode: traceCodeVectors(),
    batch: batchVectors(),
    certificate: certificateVectors(),
    ca: caVectors(),
    ledger: ledgerVectors(),
    diagnosis: endorseVectors(),
    'carer-alert': carerVectors(),
  };
}

export type { VectorFile } from './common.ts';
