/**
 * The outbox's one file: open (create, validate header, drop a torn tail),
 * durable append (write + fsync before resolving) and atomic rewrite
 * (temp + fsync + rename + directory fsync) for compaction.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol/errors';
import { decodeHeader, encodeFrame, encodeHeader, scanFrames, HEADER_LEN } from './frame.ts';
import { fsyncDir } from '../infra/files.ts';

export interface OpenResult {
  bodies: Uint8Array[];
  flags: number;
  /** Bytes of a torn or corrupt tail dropped at open. */
  droppedBytes: number;
  created: boolean;
}

async function io<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    if (cause instanceof BeepkitError) throw cause;
    throw new BeepkitError('E_IO', `outbox: ${what}: ${(cause as Error).message}`, { cause });
  }
}

export class AppendFile {
  private fh: FileHandle | undefined;
  size = 0;
  constructor(readonly path: string) {}

  /** Opens or creates the file with `flags`; an existing file keeps its own flags (returned). */
  open(flags: number): Promise<OpenResult> {
    return io('open', async () => {
      let buf: Uint8Array;
      try {
        buf = new Uint8Array(await readFile(this.path));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        buf = new Uint8Array(0);
      }
      const header = decodeHeader(buf);
      if (!header) {
        // Missing, or torn before its header was complete: start afresh.
        await this.rewrite([], flags);
        return { bodies: [], flags, droppedBytes: buf.length, created: true };
      }
      const { bodies, end } = scanFrames(buf, HEADER_LEN);
      this.fh = await open(this.path, 'r+');
      if (end < buf.length) {
        await this.fh.truncate(end);
        await this.fh.sync();
      }
      this.size = end;
      return { bodies, flags: header.flags, droppedBytes: buf.length - end, created: false };
    });
  }

  /** Appends framed bodies in one write and fsyncs; resolves only when durable. */
  append(bodies: Uint8Array[]): Promise<number> {
    return io('append', async () => {
      const fh = this.handle();
      const frames = Buffer.concat(bodies.map(encodeFrame));
      let done = 0;
      while (done < frames.length) {
        const { bytesWritten } = await fh.write(frames, done, frames.length - done, this.size + done);
        done += bytesWritten;
      }
      await fh.sync();
      this.size += frames.length;
      return frames.length;
    });
  }

  /** Replaces the file atomically with a header and these bodies. */
  rewrite(bodies: Uint8Array[], flags: number): Promise<void> {
    return io('rewrite', async () => {
      const tmp = join(dirname(this.path), `.${basename(this.path)}.tmp`);
      const data = Buffer.concat([encodeHeader(flags), ...bodies.map(encodeFrame)]);
      const t = await open(tmp, 'w');
      try {
        await t.writeFile(data);
        await t.sync();
      } finally {
        await t.close();
      }
      await this.fh?.close();
      this.fh = undefined;
      await rename(tmp, this.path);
      await fsyncDir(dirname(this.path));
      this.fh = await open(this.path, 'r+');
      this.size = data.length;
    });
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  private handle(): FileHandle {
    if (!this.fh) throw new BeepkitError('E_STATE', 'outbox: file is not open');
    return this.fh;
  }
}
