/**
 * DecryptPool worker: verifies (optionally), scans and opens whole batches,
 * returning packed geodata fields; the main thread only indexes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isBeepkitError } from '@beepkit/protocol';
import { GEODATA_VENUE_OFFSET } from '@beepkit/protocol/geodata';
import { EcdhCache, TRACECODE_LEN, TraceCodeOpener, verifyBatch } from '@beepkit/protocol/tracecode';
import { BatchScanner } from './scan.ts';
import type { PoolReply, PoolRequest } from './pool.ts';

const { solverKey, caPub } = workerData as { solverKey: Uint8Array; caPub?: Uint8Array };
const opener = new TraceCodeOpener(new EcdhCache(solverKey));
const scanner = new BatchScanner();
const x = new Float64Array(8);

function handle(m: PoolRequest): PoolReply {
  const b = m.bytes;
  try {
    if (m.verifyNow !== undefined) verifyBatch(b, { caPub, now: m.verifyNow });
    const l = scanner.scan(b);
    opener.setEphemeral(b, l.ephOff);
    const fields = new Float64Array(l.count * 8);
    const venues = new Uint8Array(l.count * 8);
    const ok = new Uint8Array(l.count);
    const intervals = new Uint16Array(l.count);
    for (let i = 0, off = l.recOff; i < l.count; i++, off += TRACECODE_LEN) {
      intervals[i] = (b[off + 33] << 8) | b[off + 34];
      try {
        if (!opener.openInto(b, off, x)) continue;
      } catch (e) {
        if (!isBeepkitError(e)) throw e;
        continue;
      }
      ok[i] = 1;
      fields.set(x, i * 8);
      if (fields[i * 8 + 7] & 1) venues.set(opener.plain.subarray(GEODATA_VENUE_OFFSET, GEODATA_VENUE_OFFSET + 8), i * 8);
    }
    return { id: m.id, day: l.day, prefix: b.slice(l.recOff + 1, l.recOff + 33), count: l.count, fields, venues, ok, intervals };
  } catch (e) {
    if (!isBeepkitError(e)) throw e;
    return { id: m.id, error: { code: e.code, message: e.message } };
  }
}

parentPort!.on('message', (m: PoolRequest) => {
  const r = handle(m);
  parentPort!.postMessage(
    r,
    'fields' in r ? [r.fields.buffer as ArrayBuffer, r.venues.buffer as ArrayBuffer, r.ok.buffer as ArrayBuffer, r.intervals.buffer as ArrayBuffer] : [],
  );
});
