/**
 * Open-time recovery of one chain: the persisted index (index-file.ts) when it
 * checks out against the segments, then the records it does not cover; else
 * every record, as before the index existed.
 *
 * Trust rules for an index that passed its own digest check (which covers
 * every byte of it), without reading the log it covers:
 * - its segments must be the first ones on disk, same first heights;
 * - each segment it knew as sealed (all but its last) must still have the size,
 *   mtime and inode it had when the index was written, and end at the covered
 *   byte; its last segment must be at least as long as the covered bytes;
 * - in every covered segment, the first and the last indexed block must be on
 *   disk where the index says: frame length, and the block header read there
 *   hashing to the indexed block hash (the header commits to the previous
 *   block's hash, the entries' root and the signature);
 * - the chain's tail block (the last indexed one) is read in full: its frame
 *   checksum, its header's hash, and the signed tree head it carries equal to
 *   the one the index names (a log truncated and re-grown to the same length
 *   with other bytes fails here: tests/ledger-index);
 * - records after the covered end (the log grew after the index was written:
 *   a kill -9, a crash) are read and loaded, torn tails truncated as without an index.
 * Anything else discards the whole index (a warning) and rebuilds from every
 * record. Open thus reads the index plus a few records, never the whole log:
 * bit rot inside a covered record whose header and frame length are intact is
 * left to `beepkit ledger verify`, which rehashes everything and never reads the index.
 */
import { closeSync, mkdirSync, openSync, readSync, unlinkSync } from 'node:fs';
import { BeepkitError, Reader, equalBytes } from '@beepkit/protocol';
import { HASH_SIZE, encodeSth, readSth } from '@beepkit/protocol/merkle';
import { blockHash, readHeader } from '@beepkit/protocol/ledger';
import { FRAME_HEADER, SEGMENT_HEADER, checksum, listSegments, scanSegment, truncateFile } from './segment.ts';
import { tagOf } from './table.ts';
import { emptyState, readIndex, removeStaleTmp, statCover, type BlockMeta, type ChainState, type SegmentCover } from './index-file.ts';
import type { Logger } from './types.ts';

const ZERO_HASH = new Uint8Array(HASH_SIZE);

export interface RecoverOptions {
  chainDir: string;
  name: string;
  keyId: Uint8Array;
  readOnly: boolean;
  logger: Logger;
}

export interface Recovered {
  state: ChainState;
  segs: { first: number; path: string }[];
  /** Blocks read from the segments (0: the index covered everything). */
  loaded: number;
  index: 'used' | 'absent' | 'discarded';
}

class Stale extends Error {}

export function tailHash(s: ChainState): Uint8Array {
  return s.blocksMeta.length ? s.blocksMeta[s.blocksMeta.length - 1].hash : ZERO_HASH;
}

/** Adds one stored block record to `s` (it must follow the last block). */
export function loadBlock(s: ChainState, chain: string, payload: Uint8Array, seg: number, at: number): void {
  const r = new Reader(payload, 'block');
  const h = readHeader(r);
  const height = s.blocksMeta.length;
  if (h.height !== height || h.firstLeafIndex !== s.tree.size || !equalBytes(h.prevHash, tailHash(s))) {
    throw new BeepkitError('E_FORMAT', `${chain}: block ${h.height} does not follow block ${height - 1}`);
  }
  for (let i = 0; i < h.entryCount; i++) {
    const start = r.offset;
    const eh = payload.subarray(start, start + HASH_SIZE);
    r.offset += HASH_SIZE;
    const dataLen = r.u32('entry.data.length');
    r.offset += dataLen;
    const n = r.u16('entry.keyCount');
    const leaf = s.tree.append(eh);
    for (let k = 0; k < n; k++) {
      const kl = r.u16('key.length');
      s.byKey.insert(tagOf(payload, r.offset, r.offset + kl), leaf);
      r.offset += kl;
    }
    s.byHash.insert(tagOf(eh), leaf);
    s.locSeg.push(seg);
    s.locOff.push(at + start);
    s.locLen.push(r.offset - start);
  }
  const sr = new Reader(r.lbytes('sth'), 'block.sth');
  const sth = readSth(sr);
  sr.end();
  r.end();
  s.blocksMeta.push({ firstLeaf: h.firstLeafIndex, count: h.entryCount, seg, offset: at, length: payload.length, hash: blockHash(h), sth });
}

export function recoverChain(o: RecoverOptions): Recovered {
  mkdirSync(o.chainDir, { recursive: true });
  if (!o.readOnly) removeStaleTmp(o.chainDir);
  const idx = readIndex(o.chainDir, o.name, o.keyId);
  let absent = false;
  if ('state' in idx) {
    try {
      return { ...scan(o, idx.state, idx.segments), index: 'used' };
    } catch (err) {
      // a record after the covered end that does not follow the indexed tail, or any bad
      // record the index path met: the rebuild reads every record and decides (and throws its own error)
      if (!(err instanceof Stale || err instanceof BeepkitError)) throw err;
      o.logger.warn({ chain: o.name }, `ledger: index does not match the segments (${err.message}); rebuilding it from every record`);
    }
  } else if (idx.absent) absent = true;
  else o.logger.warn({ chain: o.name }, `ledger: index unusable (${idx.problem}); rebuilding it from every record`);
  return { ...scan(o, emptyState(), []), index: absent ? 'absent' : 'discarded' };
}

/** A block header is well under this (one chain name, three hashes, a key id, a signature). */
const HEADER_WINDOW = 1024;

function preadExact(fd: number, length: number, at: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  while (o < length) {
    const n = readSync(fd, out, o, length - o, at + o);
    if (n === 0) break;
    o += n;
  }
  return o === length ? out : out.subarray(0, o);
}

/** Checks that indexed block `m` sits in the open segment `fd` (whole record when `full`: checksum and STH too). */
function checkBlock(fd: number, path: string, m: BlockMeta, full: boolean): void {
  const frame = preadExact(fd, FRAME_HEADER, m.offset - FRAME_HEADER);
  const fv = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (frame.length !== FRAME_HEADER || fv.getUint32(0) !== m.length) throw new Stale(`record at ${m.offset} of ${path} is not the indexed block (frame)`);
  const bytes = preadExact(fd, full ? m.length : Math.min(m.length, HEADER_WINDOW), m.offset);
  let ok = false;
  try {
    ok = equalBytes(blockHash(readHeader(new Reader(bytes, 'block'))), m.hash);
    if (ok && full) {
      const sth = encodeSth(m.sth);
      const tail = bytes.subarray(bytes.length - sth.length);
      ok =
        bytes.length === m.length &&
        checksum(bytes) === fv.getUint32(4) &&
        equalBytes(tail, sth) &&
        new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - sth.length - 4) === sth.length;
    }
  } catch (err) {
    if (!(err instanceof BeepkitError)) throw err;
  }
  if (!ok) throw new Stale(`record at ${m.offset} of ${path} is not the indexed block${full ? ' (tail block: checksum, header or tree head)' : ''}`);
}

/** The covered segments against the disk (see the module header); throws Stale. */
function checkCovers(s: ChainState, segs: { first: number; path: string }[], covers: SegmentCover[]): void {
  const k = covers.length;
  const firstOf = new Array<number>(k).fill(-1);
  const lastOf = new Array<number>(k).fill(-1);
  s.blocksMeta.forEach((m, i) => {
    if (m.seg >= k) throw new Stale(`block ${i} lies in segment ${m.seg}, beyond the ${k} indexed`);
    if (firstOf[m.seg] < 0) firstOf[m.seg] = i;
    lastOf[m.seg] = i;
  });
  for (let i = 0; i < k; i++) {
    if (segs[i]?.first !== covers[i].first) throw new Stale(`segment ${i} is not the one indexed`);
    const st = statCover(segs[i].path, covers[i].first, covers[i].bytes);
    if (i < k - 1 && (st.size !== covers[i].size || st.size !== covers[i].bytes || st.mtimeNs !== covers[i].mtimeNs || st.ino !== covers[i].ino))
      throw new Stale(`${segs[i].path} changed since the index was written`);
    if (st.size < Math.max(covers[i].bytes, SEGMENT_HEADER)) throw new Stale(`${segs[i].path} ends before the indexed blocks`);
    const want = firstOf[i] < 0 ? [] : [...new Set([firstOf[i], lastOf[i]])];
    if (want.length && covers[i].bytes !== s.blocksMeta[lastOf[i]].offset + s.blocksMeta[lastOf[i]].length)
      throw new Stale(`segment ${i}: the index's covered end is not its last block's`);
    const fd = openSync(segs[i].path, 'r');
    try {
      const head = preadExact(fd, SEGMENT_HEADER, 0);
      if (
        head.length !== SEGMENT_HEADER ||
        Buffer.from(head.buffer, head.byteOffset, 8).toString('latin1') !== 'BKLSEG01' ||
        Buffer.from(head.buffer, head.byteOffset).readBigUInt64BE(8) !== BigInt(covers[i].first)
      ) {
        throw new Stale(`${segs[i].path}: segment header is not the indexed one`);
      }
      for (const b of want) checkBlock(fd, segs[i].path, s.blocksMeta[b], b === s.blocksMeta.length - 1);
    } finally {
      closeSync(fd);
    }
  }
}

function scan(o: RecoverOptions, s: ChainState, covers: SegmentCover[]): { state: ChainState; segs: Recovered['segs']; loaded: number } {
  const segs = listSegments(o.chainDir);
  const k = covers.length;
  checkCovers(s, segs, covers);
  let loaded = 0;
  for (let seg = Math.max(0, k - 1); seg < segs.length; seg++) {
    const covered = seg === k - 1 ? covers[seg].bytes : 0;
    const res = scanSegment(
      segs[seg],
      (payload, at) => {
        loadBlock(s, o.name, payload, seg, at);
        loaded++;
      },
      covered,
    );
    if (!res.problem) continue;
    if (seg !== segs.length - 1 || !res.problem.torn)
      throw new BeepkitError('E_CHECKSUM', `${segs[seg].path}: ${res.problem.message}; run \`beepkit ledger verify\``);
    if (o.readOnly) {
      o.logger.warn({ chain: o.name, file: segs[seg].path }, `ledger: torn tail ignored (read-only): ${res.problem.message}`);
      continue;
    }
    o.logger.warn({ chain: o.name, file: segs[seg].path, dropped: res.size - res.validEnd }, `ledger: torn tail truncated (${res.problem.message})`);
    if (res.validEnd === 0) {
      unlinkSync(segs[seg].path);
      segs.pop();
    } else truncateFile(segs[seg].path, res.validEnd);
  }
  return { state: s, segs, loaded };
}
