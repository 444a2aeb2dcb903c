/**
 * The persisted index of one chain, `<dir>/<chain>/index`: the in-memory state
 * open() would otherwise rebuild from every record (tree levels, the byHash and
 * byKey tag maps as their sorted runs and directories (tag-index.ts), entry
 * locations, block metadata with their STHs), so that open reads one file and
 * a few records instead of rehashing the log. Never trusted on its own:
 *
 *   'BKLIDX01' | u32 header length | header JSON | sections | SHA-256 of all before
 *
 * The header names the format, the tag function's version, the byte order, the
 * chain and key id, the counts, and what of each segment it covers (bytes, and
 * the size, mtime and inode seen when it was written). A file whose digest,
 * length, version or counts do not check out is ignored (rebuild). The caller
 * (recover.ts) then checks the covered segments against the disk. Written to
 * `index.tmp`, fdatasynced, renamed over `index`, directory fsynced: a crash
 * while writing leaves the previous index (or none) and a stray tmp file.
 */
import { closeSync, fdatasyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { BeepkitError, equalBytes, fromHex, toHex } from '@beepkit/protocol';
import { HASH_SIZE, MerkleTree, decodeSth, encodeSth, type SignedTreeHead } from '@beepkit/protocol/merkle';
import { fsyncDir } from './segment.ts';
import { TAG_VERSION, U32Vec } from './table.ts';
import { TagIndex } from './tag-index.ts';

export const INDEX_FILE = 'index';
const MAGIC = Buffer.from('BKLIDX01', 'latin1');
/** 2: byHash and byKey as sorted runs with a directory (tag-index.ts), not open hash tables. */
const FORMAT = 2;
/** Reads and writes in pieces below readSync's 2 GiB limit. */
const CHUNK = 1 << 28;

export interface BlockMeta {
  firstLeaf: number;
  count: number;
  seg: number;
  offset: number;
  length: number;
  hash: Uint8Array;
  sth: SignedTreeHead;
}

/** Everything open() rebuilds for one chain. */
export interface ChainState {
  tree: MerkleTree;
  blocksMeta: BlockMeta[];
  locSeg: U32Vec;
  locOff: U32Vec;
  locLen: U32Vec;
  byHash: TagIndex;
  byKey: TagIndex;
}

export function emptyState(): ChainState {
  return {
    tree: new MerkleTree(),
    blocksMeta: [],
    locSeg: new U32Vec(),
    locOff: new U32Vec(),
    locLen: new U32Vec(),
    byHash: new TagIndex(),
    byKey: new TagIndex(),
  };
}

/** What the index covers of one segment file. */
export interface SegmentCover {
  first: number;
  /** End of the last indexed record (16 when none). */
  bytes: number;
  size: number;
  mtimeNs: string;
  ino: string;
}

interface Header {
  format: number;
  tagVersion: number;
  endian: string;
  chain: string;
  keyId: string;
  treeSize: number;
  height: number;
  segments: SegmentCover[];
  levels: { count: number; cap: number }[];
  byHash: { count: number; bits: number };
  byKey: { count: number; bits: number };
  loc: { length: number; cap: number };
  blocksBytes: number;
}

export function statCover(path: string, first: number, bytes: number): SegmentCover {
  const st = statSync(path, { bigint: true });
  return { first, bytes, size: Number(st.size), mtimeNs: String(st.mtimeNs), ino: String(st.ino) };
}

const view = (a: Uint8Array | Uint32Array, bytes = a.byteLength): Buffer => Buffer.from(a.buffer, a.byteOffset, bytes);

function encodeBlocks(blocks: BlockMeta[]): Buffer {
  const parts: Buffer[] = [];
  for (const b of blocks) {
    const sth = encodeSth(b.sth);
    const rec = Buffer.alloc(22 + HASH_SIZE);
    rec.writeUInt32LE(b.firstLeaf, 0);
    rec.writeUInt32LE(b.count, 4);
    rec.writeUInt32LE(b.seg, 8);
    rec.writeUInt32LE(b.offset, 12);
    rec.writeUInt32LE(b.length, 16);
    rec.set(b.hash, 20);
    rec.writeUInt16LE(sth.length, 20 + HASH_SIZE);
    parts.push(rec, view(sth));
  }
  return Buffer.concat(parts);
}

function decodeBlocks(buf: Buffer): BlockMeta[] {
  const out: BlockMeta[] = [];
  let o = 0;
  while (o < buf.length) {
    const n = buf.readUInt16LE(o + 20 + HASH_SIZE);
    const rec = {
      firstLeaf: buf.readUInt32LE(o),
      count: buf.readUInt32LE(o + 4),
      seg: buf.readUInt32LE(o + 8),
      offset: buf.readUInt32LE(o + 12),
      length: buf.readUInt32LE(o + 16),
    };
    const hash = new Uint8Array(buf.subarray(o + 20, o + 20 + HASH_SIZE));
    o += 22 + HASH_SIZE;
    out.push({ ...rec, hash, sth: decodeSth(new Uint8Array(buf.buffer, buf.byteOffset + o, n)) });
    o += n;
  }
  return out;
}

/** Writes the index of `s` atomically (tmp, fdatasync, rename, directory fsync); compacts its tag maps first. */
export function writeIndex(chainDir: string, chain: string, keyId: Uint8Array, s: ChainState, segments: SegmentCover[]): void {
  s.byHash.compact();
  s.byKey.compact();
  const byHash = s.byHash.state();
  const byKey = s.byKey.state();
  const levels = s.tree.levelState();
  const blocks = encodeBlocks(s.blocksMeta);
  const header: Header = {
    format: FORMAT,
    tagVersion: TAG_VERSION,
    endian: endianness(),
    chain,
    keyId: toHex(keyId),
    treeSize: s.tree.size,
    height: s.blocksMeta.length,
    segments,
    levels: levels.map((l) => ({ count: l.count, cap: l.buf.length })),
    byHash: { count: byHash.runCount, bits: byHash.bits },
    byKey: { count: byKey.runCount, bits: byKey.bits },
    loc: { length: s.locSeg.length, cap: s.locSeg.buf.length },
    blocksBytes: blocks.length,
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const pieces: Buffer[] = [MAGIC, len, json];
  for (const l of levels) pieces.push(view(l.buf, l.count * HASH_SIZE));
  pieces.push(view(byHash.run), view(byHash.dir), view(byKey.run), view(byKey.dir));
  for (const v of [s.locSeg, s.locOff, s.locLen]) pieces.push(view(v.buf, v.length * 4));
  pieces.push(blocks);
  const tmp = join(chainDir, INDEX_FILE + '.tmp');
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const h = createHash('sha256');
    for (const p of pieces) {
      for (let o = 0; o < p.length; o += CHUNK) {
        const c = p.subarray(o, Math.min(p.length, o + CHUNK));
        h.update(c);
        let w = 0;
        while (w < c.length) w += writeSync(fd, c, w);
      }
    }
    const digest = h.digest();
    writeSync(fd, digest);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(chainDir, INDEX_FILE));
  fsyncDir(chainDir);
}

/** Removes a tmp file left by a crash while writing (writable opens). */
export function removeStaleTmp(chainDir: string): void {
  try {
    unlinkSync(join(chainDir, INDEX_FILE + '.tmp'));
  } catch {
    /* none */
  }
}

class Bad extends Error {}

/** Read pieces hashed as they arrive (while in the CPU cache). */
const READ_PIECE = 1 << 20;

function readFully(fd: number, into: Uint8Array, pos: number, h: Hash): number {
  for (let o = 0; o < into.length;) {
    const n = readSync(fd, into, o, Math.min(READ_PIECE, into.length - o), pos + o);
    if (n === 0) throw new Bad('index file ends early');
    h.update(into.subarray(o, o + n));
    o += n;
  }
  return pos + into.length;
}

/**
 * The stored state and segment covers, or why the index cannot be used
 * (`absent` when there is none). Checks the digest over every byte and that
 * the parts agree with each other; not yet the segments (chain.ts does).
 */
export function readIndex(
  chainDir: string,
  chain: string,
  keyId: Uint8Array,
): { state: ChainState; segments: SegmentCover[] } | { problem: string; absent?: boolean } {
  let fd: number;
  try {
    fd = openSync(join(chainDir, INDEX_FILE), 'r');
  } catch {
    return { problem: 'no index', absent: true };
  }
  try {
    const size = statSync(join(chainDir, INDEX_FILE)).size;
    const h = createHash('sha256');
    const head = new Uint8Array(12);
    let pos = readFully(fd, head, 0, h);
    if (!equalBytes(head.subarray(0, 8), MAGIC)) throw new Bad('bad magic');
    const jlen = Buffer.from(head.buffer).readUInt32LE(8);
    if (jlen > 1 << 24 || 12 + jlen > size) throw new Bad('header length out of range');
    const json = new Uint8Array(jlen);
    pos = readFully(fd, json, pos, h);
    const hd = JSON.parse(Buffer.from(json).toString('utf8')) as Header;
    if (hd.format !== FORMAT || hd.tagVersion !== TAG_VERSION || hd.endian !== endianness())
      throw new Bad(`format ${hd.format}/tags ${hd.tagVersion}/${hd.endian} is not this version's`);
    if (hd.chain !== chain || !equalBytes(fromHex(hd.keyId, 'keyId'), keyId)) throw new Bad('index of another chain or key');
    const tags = [hd.byHash, hd.byKey];
    if (tags.some((x) => !Number.isInteger(x.bits) || x.bits < 4 || x.bits > 28 || !Number.isInteger(x.count) || x.count < 0))
      throw new Bad('tag index shape out of range');
    const expect =
      12 +
      jlen +
      hd.levels.reduce((a, l) => a + l.count * HASH_SIZE, 0) +
      4 * tags.reduce((a, x) => a + 2 * x.count + 2 ** x.bits + 1, 0) +
      12 * hd.loc.length +
      hd.blocksBytes +
      HASH_SIZE;
    if (size !== expect) throw new Bad(`index is ${size} bytes, its header says ${expect} (torn?)`);
    const levels = hd.levels.map((l) => ({ buf: new Uint8Array(Math.max(l.cap, l.count * HASH_SIZE)), count: l.count }));
    for (const l of levels) pos = readFully(fd, l.buf.subarray(0, l.count * HASH_SIZE), pos, h);
    const [byHash, byKey] = tags.map((x) => {
      const run = new Uint32Array(2 * x.count);
      const dir = new Uint32Array(2 ** x.bits + 1);
      pos = readFully(fd, new Uint8Array(run.buffer), pos, h);
      pos = readFully(fd, new Uint8Array(dir.buffer), pos, h);
      return { run, dir, ...x };
    });
    const locs = [0, 1, 2].map(() => new Uint32Array(Math.max(hd.loc.cap, hd.loc.length)));
    for (const a of locs) pos = readFully(fd, new Uint8Array(a.buffer, 0, hd.loc.length * 4), pos, h);
    const blocks = Buffer.alloc(hd.blocksBytes);
    pos = readFully(fd, blocks, pos, h);
    const digest = new Uint8Array(HASH_SIZE);
    readFully(fd, digest, pos, createHash('sha256'));
    if (!equalBytes(h.digest(), digest)) throw new Bad('index digest mismatch (torn or altered)');
    const state: ChainState = {
      tree: MerkleTree.fromLevels(levels),
      blocksMeta: decodeBlocks(blocks),
      locSeg: U32Vec.from(locs[0], hd.loc.length),
      locOff: U32Vec.from(locs[1], hd.loc.length),
      locLen: U32Vec.from(locs[2], hd.loc.length),
      byHash: TagIndex.from(byHash.run, byHash.count, byHash.bits, byHash.dir),
      byKey: TagIndex.from(byKey.run, byKey.count, byKey.bits, byKey.dir),
    };
    const lastBlock = state.blocksMeta[state.blocksMeta.length - 1];
    const blockLeaves = lastBlock ? lastBlock.firstLeaf + lastBlock.count : 0;
    if (
      state.tree.size !== hd.treeSize ||
      hd.loc.length !== hd.treeSize ||
      state.byHash.count !== hd.treeSize ||
      blockLeaves !== hd.treeSize ||
      state.blocksMeta.length !== hd.height
    ) {
      throw new Bad('index parts disagree on the tree size');
    }
    return { state, segments: hd.segments };
  } catch (err) {
    if (err instanceof Bad || err instanceof BeepkitError || err instanceof SyntaxError || err instanceof RangeError) return { problem: err.message };
    throw err;
  } finally {
    closeSync(fd);
  }
}
