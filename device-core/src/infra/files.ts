/**
 * Durable file writes, one implementation for every workspace: a temp file in
 * the same directory (mode 0600 unless told), written, fsynced, renamed over
 * the target, then the directory fsynced, so a crash leaves the old or the new
 * file, never a torn one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { access, open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';

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

/** True when `err` (or the error it wraps, `cause`) says the file does not exist. */
export function isMissingFile(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) if (e.code === 'ENOENT') return true;
  return false;
}

/**
 * Moves a file that could not be read aside, to `<path>.unreadable` (then `.unreadable.2`, … : an earlier one is never
 * replaced), directory fsynced, so that the fresh file a process then writes in its place destroys nothing: what it
 * held may still be recovered (the right key, a repaired disk). Resolves the new path; undefined when there was no
 * file. E_IO when it cannot be moved (the caller must then not write over it).
 */
export async function setAside(path: string): Promise<string | undefined> {
  for (let n = 1; n < 1000; n++) {
    const to = `${path}.unreadable${n === 1 ? '' : `.${n}`}`;
    try {
      await access(to);
      continue; // taken
    } catch {
      // free
    }
    try {
      await rename(path, to);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BeepkitError('E_IO', `setting ${path} aside: ${(cause as Error).message}`, { cause });
    }
    await fsyncDir(dirname(path)).catch(() => {});
    return to;
  }
  throw new BeepkitError('E_IO', `setting ${path} aside: 999 earlier copies already beside it`);
}

/** What `readOrSetAside` resolves: the value read, or (the file there but unreadable) the code and where it went. */
export interface ReadOrSetAside<T> {
  value?: T;
  unreadable?: { code: string; setAside?: string };
}

/**
 * Reads `path` with `read`. A missing file: `{}`. A file that is there but cannot be read (any other failure): set
 * aside (setAside), and its error code and new path resolved, so that the caller starts afresh without destroying
 * it. E_IO when it cannot be set aside.
 */
export async function readOrSetAside<T>(path: string, read: (path: string) => Promise<T>): Promise<ReadOrSetAside<T>> {
  try {
    return { value: await read(path) };
  } catch (err) {
    if (isMissingFile(err)) return {};
    return { unreadable: { code: isBeepkitError(err) ? err.code : 'E_INTERNAL', setAside: await setAside(path) } };
  }
}
