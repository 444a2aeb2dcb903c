/**
 * Open-time recovery of one chain: the persisted index (index-file.ts) when it
 * checks out against the segments, then the records it does not cover; else
 * every record, as before the index existed.
 *
 * Trust rules for an index that passed its own digest check:
 * - its segments must be the first ones on disk, same first heights;
 * - each segment it knew as sealed (all but its last) must still have the size,
 *   mtime and inode it had when the index was written, and end at the covered byte;
 * - its last segment is re-read in full: every record's checksum, and every
 *   covered record must sit at the indexed offset with the indexed block hash
 *   (the chain's hash links cover the rest); records after the covered end
 *   (the log grew after the index was written: a kill -9, a crash) are loaded.
 * Anything else discards the whole index (a warning) and rebuilds from every
 * record. Bit rot inside a sealed segment with unchanged metadata is left to
 * `beepkit ledger verify`, which rehashes everything and never reads the index.
 */
import { mkdirSync, unlinkSync } from 'node:fs';
import { BeepkitError, Reader, equalBytes } from '@beepkit/protocol';
import { HASH_SIZE, readSth } from '@beepkit/protocol/merkle';
import { blockHash, readHeader } from '@beepkit/protocol/ledger';
import { SEGMENT_HEADER, listSegments, scanSegment, truncateFile } from './segment.ts';
import { tagOf } from './table.ts';
import { emptyState, readIndex, removeStaleTmp, statCover, type ChainState, type SegmentCover } from './index-file.ts';
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
      if (!(err instanceof Stale)) throw err;
      o.logger.warn({ chain: o.name }, `ledger: index does not match the segments (${err.message}); rebuilding it from every record`);
    }
  } else if (idx.absent) absent = true;
  else o.logger.warn({ chain: o.name }, `ledger: index unusable (${idx.problem}); rebuilding it from every record`);
  return { ...scan(o, emptyState(), []), index: absent ? 'absent' : 'discarded' };
}

function scan(o: RecoverOptions, s: ChainState, covers: SegmentCover[]): { state: ChainState; segs: Recovered['segs']; loaded: number } {
  const segs = listSegments(o.chainDir);
  const k = covers.length;
  for (let i = 0; i < k; i++) {
    if (segs[i]?.first !== covers[i].first) throw new Stale(`segment ${i} is not the one indexed`);
    if (i === k - 1) continue;
    const st = statCover(segs[i].path, covers[i].first, covers[i].bytes);
    if (st.size !== covers[i].size || st.size !== covers[i].bytes || st.mtimeNs !== covers[i].mtimeNs || st.ino !== covers[i].ino) throw new Stale(`${segs[i].path} changed since the index was written`);
  }
  let loaded = 0;
  const indexed = s.blocksMeta.length;
  for (let seg = Math.max(0, k - 1); seg < segs.length; seg++) {
    const covered = seg === k - 1 ? covers[seg].bytes : 0;
    let j = s.blocksMeta.length;
    while (covered && j > 0 && s.blocksMeta[j - 1].seg === seg) j--;
    const res = scanSegment(segs[seg], (payload, at) => {
      if (at >= covered) {
        loadBlock(s, o.name, payload, seg, at);
        loaded++;
        return;
      }
      const m = s.blocksMeta[j++];
      if (!m || m.seg !== seg || m.offset !== at || m.length !== payload.length || !equalBytes(blockHash(readHeader(new Reader(payload, 'block'))), m.hash)) {
        throw new Stale(`record at ${at} of ${segs[seg].path} is not the indexed block`);
      }
    });
    if (seg === k - 1 && (j !== indexed || res.validEnd < Math.max(covered, SEGMENT_HEADER))) throw new Stale(`${segs[seg].path} ends before the indexed blocks`);
    if (!res.problem) continue;
    if (seg !== segs.length - 1 || !res.problem.torn) throw new BeepkitError('E_CHECKSUM', `${segs[seg].path}: ${res.problem.message}; run \`beepkit ledger verify\``);
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
