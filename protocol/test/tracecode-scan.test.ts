// scanBatch (protocol/src/tracecode/batch.ts: a batch checked without an object per record, for gateway ingest) and
// decodeBatch / decodeBatchView, which now build on it, against the decoder they replaced (a Reader, decodeTraceCode
// and a Set per batch, kept below as the reference): the same error code and message for every input, in the same
// order of checks, and the same fields for every batch accepted. Inputs: valid batches of 1–40 records mutated in the
// places the checks read (record versions, intervals copied from another record, the count, truncation, trailing bytes,
// random bytes), one after the other, so a failed scan leaving its duplicate-check bits set would show on the next.
import t from 'tap';
import { Reader, toHex } from '../src/bytes.ts';
import { BeepkitError } from '../src/errors.ts';
import {
  BATCH_VERSION,
  MAX_BATCH_RECORDS,
  TRACECODE_LEN,
  decodeBatch,
  decodeBatchView,
  decodeTraceCode,
  scanBatch,
  signBatch,
} from '../src/tracecode/index.ts';
import { prng } from './crypto-fuzz.ts';

/** The decoder before scanBatch (e3d7408), as the reference. */
function reference(bytes: Uint8Array) {
  const r = new Reader(bytes, 'batch', false);
  const version = r.u8('version');
  if (version !== BATCH_VERSION) throw new BeepkitError('E_VERSION', `batch: unknown version ${version}`);
  const day = r.u32('day');
  const ephemeralPub = r.bytes(32, 'ephemeralPub');
  const certificate = r.vbytes('certificate');
  const count = r.u16('count');
  if (count < 1 || count > MAX_BATCH_RECORDS) throw new BeepkitError('E_RANGE', `batch: record count ${count} not in 1..${MAX_BATCH_RECORDS}`);
  if (r.remaining < count * TRACECODE_LEN + 64)
    throw new BeepkitError('E_TRUNCATED', `batch: ${count} records need ${count * TRACECODE_LEN + 64} bytes, ${r.remaining} left`);
  const records: Uint8Array[] = [];
  const intervals: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const rec = r.bytes(TRACECODE_LEN, 'record');
    const tc = decodeTraceCode(rec, false);
    if (seen.has(tc.interval)) throw new BeepkitError('E_FORMAT', `batch: interval ${tc.interval} appears twice`);
    seen.add(tc.interval);
    records.push(rec);
    intervals.push(tc.interval);
  }
  const signature = r.bytes(64, 'signature');
  r.end();
  return { version, day, ephemeralPub, certificate, records, intervals, signature };
}

function outcome(f: () => unknown): string {
  try {
    return JSON.stringify(f());
  } catch (e) {
    return e instanceof BeepkitError ? `${e.code}: ${e.message}` : `escaped: ${String(e)}`;
  }
}

/** The fields every decoder gives, comparable (no extras: the scan's offsets, the decoders' TraceCode objects). */
type Fields = {
  version: number;
  day: number;
  ephemeralPub: Uint8Array;
  certificate: Uint8Array;
  records: Uint8Array[];
  intervals: number[];
  signature: Uint8Array;
};
const hexAll = (o: Fields) => ({
  version: o.version,
  day: o.day,
  ephemeralPub: toHex(o.ephemeralPub),
  certificate: toHex(o.certificate),
  records: o.records.map(toHex),
  intervals: o.intervals,
  signature: toHex(o.signature),
});

function viaScan(b: Uint8Array) {
  const l = scanBatch(b);
  const records = Array.from({ length: l.count }, (_, i) => b.subarray(l.recordsAt + i * TRACECODE_LEN, l.recordsAt + (i + 1) * TRACECODE_LEN));
  return hexAll({ ...l, records, intervals: records.map((r) => (r[33] << 8) | r[34]) });
}

function viaDecode(decode: typeof decodeBatch) {
  return (b: Uint8Array) => {
    const d = decode(b);
    return hexAll({ ...d, intervals: d.traceCodes.map((tc) => tc.interval) });
  };
}

t.test('scanBatch, decodeBatch and decodeBatchView agree with the reference decoder on valid and mutated batches', async (t) => {
  const rnd = prng(18);
  const int = (k: number) => Math.floor(rnd() * k);
  const cert = new Uint8Array(120).map(() => int(256));
  const seed = new Uint8Array(32).fill(5);
  const batches = [1, 2, 28, 40].map((n) => {
    const records = Array.from({ length: n }, (_, i) => {
      const r = new Uint8Array(TRACECODE_LEN).map(() => int(256));
      r[0] = 1;
      r[33] = (i * 997) >>> 8;
      r[34] = i * 997;
      return r;
    });
    return signBatch({ day: 20_602, ephemeralPub: new Uint8Array(32).fill(7), certificate: cert, records }, seed);
  });
  const codes: Record<string, number> = {};
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const src = batches[int(batches.length)];
    let b = src.slice();
    const at = 1 + 4 + 32 + 2 + cert.length + 2; // first record
    const n = (b.length - at - 64) / TRACECODE_LEN;
    for (let m = int(3); m >= 0; m--) {
      const rec = at + int(n) * TRACECODE_LEN;
      switch (int(8)) {
        case 0: // a record's version
          b[rec] = int(3);
          break;
        case 1: {
          // an interval copied from another record
          const from = at + int(n) * TRACECODE_LEN;
          b[rec + 33] = b[from + 33];
          b[rec + 34] = b[from + 34];
          break;
        }
        case 2: // the count
          b[at - 2] = int(2) ? 0 : int(256);
          b[at - 1] = int(256);
          break;
        case 3: // truncated
          b = b.subarray(0, int(b.length));
          break;
        case 4: {
          // trailing bytes
          const c = new Uint8Array(b.length + 1 + int(100));
          c.set(b);
          b = c;
          break;
        }
        case 5: // any byte
          if (b.length) b[int(b.length)] = int(256);
          break;
        case 6: // the batch version
          b[0] = int(3);
          break;
        default: // random bytes
          b = new Uint8Array(int(src.length + 10)).map(() => int(256));
      }
    }
    const want = outcome(() => hexAll(reference(b)));
    const got = [outcome(() => viaScan(b)), outcome(() => viaDecode(decodeBatch)(b)), outcome(() => viaDecode(decodeBatchView)(b))];
    if (got.some((g) => g !== want)) {
      t.fail(`input ${toHex(b)}: want ${want.slice(0, 200)}, got ${got.map((g) => g.slice(0, 200)).join(' | ')}`);
      return;
    }
    const code = want.startsWith('{') ? 'ok' : want.slice(0, want.indexOf(':'));
    codes[code] = (codes[code] ?? 0) + 1;
    if (code === 'ok') accepted++;
  }
  t.ok(accepted > 1000, `accepted ${accepted}`);
  for (const c of ['E_VERSION', 'E_FORMAT', 'E_RANGE', 'E_TRUNCATED', 'E_TRAILING']) t.ok(codes[c] > 100, `${c} met ${codes[c]} times`);
});
