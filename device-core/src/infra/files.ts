/**
 * Durable file writes, one implementation for every workspace: a temp file in
 * the same directory (mode 0600 unless told), written, fsynced, renamed over
 * the target, then the directory fsynced, so a crash leaves the old or the new
 * file, never a torn one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';

/** Atomically replaces `path` with `data` (mode 0600, fsynced, directory fsynced). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode); // umask may have narrowed/widened the create mode
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
  } catch (cause) {
    await unlink(tmp).catch(() => {});
    if (cause instanceof BeepkitError) throw cause;
    throw new BeepkitError('E_IO', `writing ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Fsyncs a directory (after a rename in it). */
export async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** The same, synchronously: creates the directory (0700) first; the directory fsync is best effort. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // directory fsync is best effort
  }
}
