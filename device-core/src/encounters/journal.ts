/**
 * The encounter log's file, appended to: a clear header ("BKEJ", version 3, a random 16-byte file id) and frames,
 * each `u32 length || nonce(24) || XChaCha20-Poly1305(key, payload)` with the file id and the frame's index in the
 * AAD (frames cannot be moved, dropped from the middle or spliced from another file). A payload is the codec's
 * serialisation of some encounters and rotations; loading applies them in order (a later encounter of an RPI
 * replacing the earlier one). A save appends one frame with the encounters changed since the previous save and the
 * new rotations, fsynced before it resolves; the whole file is rewritten (temp file, fsync, rename, directory
 * fsync; 0600) at the first save of a log, after a purge or a restore, after a failed append, and when the file has
 * grown past twice what a rewrite would take. A torn last frame (a power loss mid-append) is dropped at load: the
 * log is what the previous save left. The single sealed file written before (codec: sealEncounters) is still read.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { equalBytes } from '@beepkit/protocol/bytes';
import { xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import { fsyncDir } from '../infra/files.ts';
import { deserialiseInto, openEncounters, serialiseSlots, serialisedSize } from './codec.ts';
import { EncounterLog, type EncounterLogOptions } from './log.ts';

const HEADER = new Uint8Array([0x42, 0x4b, 0x45, 0x4a, 3]); // "BKEJ", version 3
const HEADER_LEN = HEADER.length + 16;
const AAD = new TextEncoder().encode('beepkit/encounter-log/v3');
/** Encounters per frame of a rewrite (bounds the buffers in flight: ~1 MB a frame). */
const CHUNK = 8192;

interface Journal {
  path: string;
  key: Uint8Array;
  fileId: Uint8Array;
  frames: number;
  bytes: number;
  generation: number;
  rotations: number;
}

const journals = new WeakMap<EncounterLog, Journal>();
const queues = new WeakMap<EncounterLog, Promise<unknown>>();

function aad(fileId: Uint8Array, index: number): Uint8Array {
  const a = new Uint8Array(AAD.length + 20);
  a.set(AAD, 0);
  a.set(fileId, AAD.length);
  new DataView(a.buffer).setUint32(AAD.length + 16, index);
  return a;
}

function frame(key: Uint8Array, fileId: Uint8Array, index: number, payload: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(randomBytes(24));
  const ct = xchachaSeal(key, nonce, payload, aad(fileId, index));
  const out = new Uint8Array(4 + 24 + ct.length);
  new DataView(out.buffer).setUint32(0, 24 + ct.length);
  out.set(nonce, 4);
  out.set(ct, 28);
  return out;
}

async function writeAll(fh: FileHandle, b: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < b.length;) done += (await fh.write(b, done, b.length - done, position + done)).bytesWritten;
}

/**
 * The whole log, in frames of CHUNK encounters, to a temp file renamed over `path`. Begun again (the temp file
 * dropped, `path` untouched) when a purge or a restore moves the encounters while it writes: the frames still to
 * write would skip those moved below them.
 */
async function rewrite(path: string, log: EncounterLog, key: Uint8Array): Promise<Journal> {
  for (;;) {
    const j = await rewriteOnce(path, log, key);
    if (j) return j;
  }
}

/** As rewrite(); undefined (nothing renamed) if the log's generation changed meanwhile. */
async function rewriteOnce(path: string, log: EncounterLog, key: Uint8Array): Promise<Journal | undefined> {
  const fileId = new Uint8Array(randomBytes(16));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const j: Journal = { path, key: key.slice(), fileId, frames: 0, bytes: HEADER_LEN, generation: log.generation, rotations: 0 };
  // what record() changes while the frames are written (between them) is dirty again, appended by the next save
  log.store.dirty.fill(0, 0, log.store.n);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      const head = new Uint8Array(HEADER_LEN);
      head.set(HEADER);
      head.set(fileId, HEADER.length);
      await writeAll(fh, head, 0);
      for (let from = 0; from === 0 || from < log.store.n; from += CHUNK) {
        const n = log.store.n;
        // the rotations go with the last frame; one more frame (encounters recorded meanwhile) carries only newer ones
        const last = from + CHUNK >= n;
        const f = frame(
          key,
          fileId,
          j.frames++,
          serialiseSlots(log, from, Math.min(n, from + CHUNK), () => true, last ? j.rotations : log.rotationCount),
        );
        if (last) j.rotations = log.rotationCount;
        await writeAll(fh, f, j.bytes);
        j.bytes += f.length;
        if (log.generation !== j.generation) break;
      }
      if (log.generation === j.generation) {
        await fh.chmod(0o600); // umask may have narrowed/widened the create mode
        await fh.sync();
      }
    } finally {
      await fh.close();
    }
    if (log.generation !== j.generation) {
      await unlink(tmp);
      return undefined;
    }
    await rename(tmp, path);
    await fsyncDir(dirname(path));
  } catch (cause) {
    await unlink(tmp).catch(() => {});
    throw cause;
  }
  return j;
}

/** One frame of the encounters changed since the last save and the new rotations, at the end of the file, fsynced. */
async function append(log: EncounterLog, j: Journal): Promise<void> {
  const st = log.store;
  const dirty = st.dirty;
  const f = frame(
    j.key,
    j.fileId,
    j.frames,
    serialiseSlots(log, 0, st.n, (s) => dirty[s] === 1, j.rotations),
  );
  const rotations = log.rotationCount;
  dirty.fill(0, 0, st.n);
  const fh = await open(j.path, 'r+');
  try {
    await writeAll(fh, f, j.bytes);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  j.frames++;
  j.bytes += f.length;
  j.rotations = rotations;
}

async function save(path: string, log: EncounterLog, key: Uint8Array): Promise<void> {
  const j = journals.get(log);
  journals.delete(log); // until this save is done: a failure leaves the next save to rewrite
  try {
    const same = j && j.path === path && equalBytes(j.key, key) && j.generation === log.generation && j.rotations <= log.rotationCount;
    if (same && j.bytes <= 2 * serialisedSize(log) + (1 << 20)) {
      await append(log, j);
      journals.set(log, j);
    } else journals.set(log, await rewrite(path, log, key));
  } catch (cause) {
    log.store.dirty.fill(1, 0, log.store.n);
    throw new BeepkitError('E_IO', `encounter log: cannot write ${path}`, { cause });
  }
}

/**
 * Saves the log durably: appends what changed since its previous save to `path`, or rewrites the file (see the
 * module comment); resolves once on disk. Saves of one log run one after another. E_IO when it cannot.
 */
export function saveEncounters(path: string, log: EncounterLog, key: Uint8Array): Promise<void> {
  const next = (queues.get(log) ?? Promise.resolve()).catch(() => {}).then(() => save(path, log, key));
  queues.set(log, next);
  return next;
}

/** A file or a buffer, read a piece at a time (a journal is loaded a frame at a time, not whole). */
interface Source {
  size: number;
  read(pos: number, len: number): Promise<Uint8Array>;
  all(): Promise<Uint8Array>;
}

/** Whether src[from, size) is all zero bytes, read a MB at a time (a hostile length does not have the rest read whole). */
async function zeros(src: Source, from: number): Promise<boolean> {
  for (let at = from; at < src.size; at += 1 << 20) {
    const b = await src.read(at, Math.min(1 << 20, src.size - at));
    if (!b.every((x) => x === 0)) return false;
  }
  return true;
}

async function openFrom(src: Source, key: Uint8Array, opts: EncounterLogOptions): Promise<EncounterLog> {
  const head = await src.read(0, Math.min(HEADER_LEN, src.size));
  if (head.length < HEADER_LEN || !equalBytes(head.subarray(0, HEADER.length), HEADER)) return openEncounters(await src.all(), key, opts);
  const log = new EncounterLog(opts);
  const fileId = head.slice(HEADER.length, HEADER_LEN);
  let at = HEADER_LEN;
  for (let index = 0; at < src.size; index++) {
    const lenBytes = at + 4 <= src.size ? await src.read(at, 4) : new Uint8Array(4);
    const len = new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0);
    const end = at + 4 + len;
    let payload: Uint8Array | undefined;
    let err: unknown = new BeepkitError('E_TRUNCATED', `encounter log: frame ${index} cut short`);
    if (len >= 24 + 16 && end <= src.size) {
      const f = await src.read(at + 4, len);
      try {
        payload = xchachaOpen(key, f.subarray(0, 24), f.subarray(24), aad(fileId, index));
      } catch (e) {
        err = e;
      }
    }
    if (!payload) {
      // a torn last frame (a power loss mid-append: cut short, or its blocks not all written): the previous save's log
      if (index > 0 && (end >= src.size || (await zeros(src, at)))) break;
      if (index === 0) {
        // not a journal after all (a sealed file whose random nonce starts like the header: ~2^-40)?
        try {
          return openEncounters(await src.all(), key, opts);
        } catch {
          throw err;
        }
      }
      throw err;
    }
    deserialiseInto(log, payload);
    at = end;
  }
  log.store.compact(() => true); // the windows of encounters replaced by later frames
  log.store.dirty.fill(0, 0, log.store.n);
  return log;
}

/** Reads a journal or a single sealed file (the format before) from memory; E_DECRYPT on a wrong key or tampering. */
export function openEncounterFile(buf: Uint8Array, key: Uint8Array, opts: EncounterLogOptions = {}): Promise<EncounterLog> {
  const src: Source = { size: buf.length, read: async (pos, len) => buf.subarray(pos, pos + len), all: async () => buf };
  return openFrom(src, key, opts);
}

/** Loads a journal (a frame at a time) or a single sealed file (the format before); E_IO when it cannot be read. */
export async function loadEncounters(path: string, key: Uint8Array, opts: EncounterLogOptions = {}): Promise<EncounterLog> {
  const io = (cause: unknown) => new BeepkitError('E_IO', `encounter log: cannot read ${path}`, { cause });
  await removeStaleTemps(path);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw io(cause);
  }
  try {
    const size = (await fh.stat()).size;
    const read = async (pos: number, len: number): Promise<Uint8Array> => {
      const b = new Uint8Array(len);
      for (let done = 0; done < len;) {
        const { bytesRead } = await fh.read(b, done, len - done, pos + done).catch((cause) => Promise.reject(io(cause)));
        if (bytesRead === 0) throw io(new Error('file shrank while read'));
        done += bytesRead;
      }
      return b;
    };
    return await openFrom({ size, read, all: () => read(0, size) }, key, opts);
  } finally {
    await fh.close();
  }
}

/**
 * Removes the temp files of rewrites that a kill or a power loss cut short (`.<name>.<pid>.<hex>.tmp` beside the log,
 * up to the size of a whole log each); a log is loaded once, at start, before this process writes any.
 */
async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const n of names) {
    if (n.startsWith(prefix) && /^\d+\.[0-9a-f]{12}\.tmp$/.test(n.slice(prefix.length))) await unlink(join(dirname(path), n)).catch(() => {});
  }
}
