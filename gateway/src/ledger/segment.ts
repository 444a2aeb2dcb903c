/**
 * Segment files: `<dir>/<chain>/<first block height, 20 digits>.seg`, each a
 * 16-byte header ("BKLSEG01" + u64 first height) then framed records
 * [u32 length][first 4 bytes of SHA-256(payload)][payload]. One record per
 * block. A new segment starts when the current one would exceed `maxBytes`.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, readdirSync, readFileSync, statSync, ftruncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from './digest.ts';
import { BeepkitError } from '@beepkit/protocol';

export const SEGMENT_HEADER = 16;
export const FRAME_HEADER = 8;
const MAGIC = Buffer.from('BKLSEG01', 'latin1');

/** First 4 bytes of SHA-256(payload), big-endian (one-shot hash: no Hash object per record). */
export function checksum(payload: Uint8Array): number {
  return sha256(payload).readUInt32BE(0);
}

export function segmentName(firstHeight: number): string {
  return `${String(firstHeight).padStart(20, '0')}.seg`;
}

export function listSegments(dir: string): { first: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d{20}\.seg$/.test(n))
    .sort()
    .map((n) => ({ first: Number(n.slice(0, 20)), path: join(dir, n) }));
}

export interface ScanProblem {
  offset: number;
  /** true when the bad bytes look like an interrupted append at the end of the file. */
  torn: boolean;
  message: string;
}

/**
 * Walks the records of one segment file, or of its bytes from `from` on (a
 * record boundary the caller vouches for, e.g. the end of what an index
 * covers: the header and the records before it are then not read). Stops at
 * the first bad frame and reports it; `validEnd` is the end of the last good record.
 */
export function scanSegment(
  seg: { first: number; path: string },
  onRecord: (payload: Uint8Array, payloadOffset: number) => void,
  from = 0,
): { validEnd: number; size: number; problem?: ScanProblem } {
  let buf: Buffer;
  let base = 0;
  if (from > SEGMENT_HEADER) {
    const fd = openSync(seg.path, 'r');
    try {
      const size = fstatSync(fd).size;
      buf = Buffer.alloc(Math.max(0, size - from));
      let o = 0;
      while (o < buf.length) {
        const n = readSync(fd, buf, o, buf.length - o, from + o);
        if (n === 0) break;
        o += n;
      }
      buf = buf.subarray(0, o);
      base = from;
    } finally {
      closeSync(fd);
    }
  } else {
    buf = readFileSync(seg.path);
    if (buf.length < SEGMENT_HEADER) return { validEnd: 0, size: buf.length, problem: { offset: 0, torn: true, message: 'segment header incomplete' } };
    if (!buf.subarray(0, 8).equals(MAGIC)) return { validEnd: 0, size: buf.length, problem: { offset: 0, torn: false, message: 'bad segment magic' } };
    if (buf.readBigUInt64BE(8) !== BigInt(seg.first))
      return { validEnd: 0, size: buf.length, problem: { offset: 8, torn: false, message: 'segment header height does not match its name' } };
  }
  const size = base + buf.length;
  let o = Math.max(SEGMENT_HEADER, from);
  while (o < size) {
    const r = o - base;
    if (o + FRAME_HEADER > size) return { validEnd: o, size, problem: { offset: o, torn: true, message: 'frame header incomplete' } };
    const len = buf.readUInt32BE(r);
    const sum = buf.readUInt32BE(r + 4);
    const end = o + FRAME_HEADER + len;
    if (len === 0 && buf.subarray(r).every((x) => x === 0)) return { validEnd: o, size, problem: { offset: o, torn: true, message: 'zero-filled tail' } };
    if (end > size) return { validEnd: o, size, problem: { offset: o, torn: true, message: `record of ${len} bytes runs past end of file` } };
    const payload = new Uint8Array(buf.buffer, buf.byteOffset + r + FRAME_HEADER, len);
    if (checksum(payload) !== sum) {
      return { validEnd: o, size, problem: { offset: o, torn: end === size, message: `record checksum mismatch at offset ${o}` } };
    }
    onRecord(payload, o + FRAME_HEADER);
    o = end;
  }
  return { validEnd: o, size };
}

/** Cuts `path` to `size` bytes and fsyncs it. */
export function truncateFile(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Appends framed records to the newest segment; one write + one fdatasync per record. */
export class SegmentWriter {
  private fh: FileHandle | undefined;
  private size = 0;
  private readers = new Map<number, number>();
  segments: { first: number; path: string }[] = [];

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  async start(segments: { first: number; path: string }[], readOnly = false): Promise<void> {
    this.segments = segments;
    const last = segments[segments.length - 1];
    if (last && !readOnly) {
      this.fh = await open(last.path, 'r+');
      this.size = statSync(last.path).size;
    }
  }

  /** Writes one record; returns where its payload landed. */
  async append(payload: Uint8Array, height: number): Promise<{ seg: number; offset: number }> {
    const frame = Buffer.alloc(FRAME_HEADER);
    frame.writeUInt32BE(payload.length, 0);
    frame.writeUInt32BE(checksum(payload), 4);
    if (!this.fh || (this.size > SEGMENT_HEADER && this.size + FRAME_HEADER + payload.length > this.maxBytes)) await this.roll(height);
    const fh = this.fh as FileHandle;
    const at = this.size;
    const { bytesWritten } = await fh.writev([frame, payload], at);
    if (bytesWritten !== FRAME_HEADER + payload.length) throw new BeepkitError('E_IO', `short write: ${bytesWritten} bytes`);
    await fh.datasync();
    this.size += bytesWritten;
    return { seg: this.segments.length - 1, offset: at + FRAME_HEADER };
  }

  /** Reads `length` bytes at `offset` of segment number `seg`. */
  read(seg: number, offset: number, length: number): Uint8Array {
    let fd = this.readers.get(seg);
    if (fd === undefined) {
      fd = openSync(this.segments[seg].path, 'r');
      this.readers.set(seg, fd);
    }
    const out = new Uint8Array(length);
    const n = readSync(fd, out, 0, length, offset);
    if (n !== length) throw new BeepkitError('E_IO', `short read in ${this.segments[seg].path} at ${offset}`);
    return out;
  }

  async stop(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
    for (const fd of this.readers.values()) closeSync(fd);
    this.readers.clear();
  }

  private async roll(height: number): Promise<void> {
    await this.fh?.close();
    const path = join(this.dir, segmentName(height));
    const fh = await open(path, 'w+');
    const header = Buffer.alloc(SEGMENT_HEADER);
    MAGIC.copy(header, 0);
    header.writeBigUInt64BE(BigInt(height), 8);
    await fh.write(header, 0, SEGMENT_HEADER, 0);
    await fh.sync();
    fsyncDir(this.dir);
    this.fh = fh;
    this.size = SEGMENT_HEADER;
    this.segments.push({ first: height, path });
  }
}
