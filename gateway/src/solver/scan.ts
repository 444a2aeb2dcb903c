/**
 * Allocation-free structural check of an upload batch (protocol
 * tracecode/batch.ts layout), the same checks and error codes as decodeBatch
 * plus "every record carries the first record's prefix" (verifyBatch checks it
 * against the certificate): the solver's path for ledger entries whose
 * signature it does not re-verify.
 */
import { BeepkitError } from '@beepkit/protocol';
import { BATCH_VERSION, MAX_BATCH_RECORDS, PREFIX_LEN, TRACECODE_LEN, TRACECODE_VERSION } from '@beepkit/protocol/tracecode';

export interface BatchLayout {
  day: number;
  /** Offset of the 32-byte ephemeral public key. */
  ephOff: number;
  count: number;
  /** Offset of the first record (records are TRACECODE_LEN apart). */
  recOff: number;
}

const trunc = (what: string): BeepkitError => new BeepkitError('E_TRUNCATED', `batch: truncated at ${what}`);

export class BatchScanner {
  private readonly seen = new Uint32Array(65536 / 32);

  scan(b: Uint8Array): BatchLayout {
    if (b.length < 1) throw trunc('version');
    if (b[0] !== BATCH_VERSION) throw new BeepkitError('E_VERSION', `batch: unknown version ${b[0]}`);
    if (b.length < 1 + 4 + 32 + 2) throw trunc('header');
    const day = ((b[1] << 24) | (b[2] << 16) | (b[3] << 8) | b[4]) >>> 0;
    const ephOff = 5;
    const certLen = (b[37] << 8) | b[38];
    const countOff = 39 + certLen;
    if (b.length < countOff + 2) throw trunc('certificate');
    const count = (b[countOff] << 8) | b[countOff + 1];
    if (count < 1 || count > MAX_BATCH_RECORDS) throw new BeepkitError('E_RANGE', `batch: record count ${count} not in 1..${MAX_BATCH_RECORDS}`);
    const recOff = countOff + 2;
    const left = b.length - recOff;
    if (left < count * TRACECODE_LEN + 64)
      throw new BeepkitError('E_TRUNCATED', `batch: ${count} records need ${count * TRACECODE_LEN + 64} bytes, ${left} left`);
    if (left > count * TRACECODE_LEN + 64) throw new BeepkitError('E_TRAILING', 'batch: trailing bytes');
    const seen = this.seen;
    try {
      for (let i = 0, o = recOff; i < count; i++, o += TRACECODE_LEN) {
        if (b[o] !== TRACECODE_VERSION) throw new BeepkitError('E_VERSION', `tracecode: unknown version ${b[o]}`);
        const iv = (b[o + 1 + PREFIX_LEN] << 8) | b[o + 2 + PREFIX_LEN];
        if (seen[iv >>> 5] & (1 << (iv & 31))) throw new BeepkitError('E_FORMAT', `batch: interval ${iv} appears twice`);
        seen[iv >>> 5] |= 1 << (iv & 31);
        if (i > 0)
          for (let j = 1; j <= PREFIX_LEN; j++) if (b[o + j] !== b[recOff + j]) throw new BeepkitError('E_CERT', 'batch: records of more than one pseudonym');
      }
    } finally {
      for (let i = 0, o = recOff + 1 + PREFIX_LEN; i < count; i++, o += TRACECODE_LEN) seen[((b[o] << 8) | b[o + 1]) >>> 5] = 0;
    }
    return { day, ephOff, count, recOff };
  }
}
