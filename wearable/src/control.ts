/**
 * The running wearable's control socket and the data directory lock.
 *
 * `wearable run|pair` holds `<dataDir>/wearable.lock` (created O_EXCL, holding its pid) for its
 * whole life and serves a Unix socket, so that `wearable revoke-carer` changes the state *through*
 * the running process (which then drops the pairing, rotates the master and ends the carer's open
 * links at once) instead of writing the data directory behind its back. Without a running wearable
 * the command takes the same lock and writes the files itself. A lock whose pid is gone is stale
 * and taken over.
 *
 * The socket lives in a short directory of its own, not in the data directory (a Unix socket path
 * stops at 108 bytes, a data directory can be deep): `<tmpdir>/beepkit-<uid>/` (0700, owner
 * checked; `/tmp/beepkit-<uid>` when the tmpdir is too long), file `w-<16 hex of SHA-256 of the
 * data dir's real path>.sock`, mode 0600. Its path is recorded in `<dataDir>/control.json`.
 *
 * Protocol: one JSON line in (`{"op": "revoke-carer"}`), one JSON line out (`{"ok": true, …}` or
 * `{"ok": false, "code", "message"}`), then the server closes. Bad input gets E_FORMAT, never a crash.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmod, link, lstat, mkdir, readFile, realpath, unlink, writeFile, rename } from 'node:fs/promises';
import { unlinkSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BeepkitError, remoteError } from '@beepkit/protocol/errors';

export const LOCK_FILE = 'wearable.lock';
export const CONTROL_FILE = 'control.json';
/** A Unix socket path (sun_path) holds 108 bytes with its terminating NUL; stay well below. */
const MAX_SOCKET_PATH = 100;
const MAX_REQUEST = 4096;

export type ControlRequest = { op: string };
export type ControlReply = { ok: true; [k: string]: unknown } | { ok: false; code: string; message: string };
export type ControlHandler = (req: ControlRequest) => Promise<Record<string, unknown>>;

/** The socket path for a data directory: short, private to the user, keyed by the directory's real path. */
export async function socketPathFor(dataDir: string, base = tmpdir()): Promise<string> {
  const real = await realpath(dataDir).catch(() => resolve(dataDir));
  const name = `w-${createHash('sha256').update(real).digest('hex').slice(0, 16)}.sock`;
  const uid = process.getuid?.() ?? 0;
  let dir = join(base, `beepkit-${uid}`);
  if (Buffer.byteLength(join(dir, name)) > MAX_SOCKET_PATH) dir = join('/tmp', `beepkit-${uid}`);
  if (Buffer.byteLength(join(dir, name)) > MAX_SOCKET_PATH) throw new BeepkitError('E_CONFIG', `control socket path too long: ${join(dir, name)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o077) !== 0) {
    throw new BeepkitError('E_PERMISSION', `control socket directory ${dir} is not a private directory of this user`);
  }
  return join(dir, name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The directory lock: `wearable.lock` holding the holder's pid, created whole and exclusively (written to a
 * temp file, then hard-linked to the lock path: link(2) fails with EEXIST like O_EXCL, and a reader never sees
 * a half-written lock). A lock of a dead pid, or unreadable, is stale and taken over.
 */
export class DirLock {
  private held = false;
  private readonly onExit = (): void => this.releaseSync();
  constructor(readonly dataDir: string) {}

  get path(): string {
    return join(this.dataDir, LOCK_FILE);
  }

  /** Takes the lock (E_BUSY naming the holder's pid when a live process holds it). */
  async acquire(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const tmp = `${this.path}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify({ pid: process.pid }), { mode: 0o600 });
        await link(tmp, this.path);
        this.held = true;
        process.once('exit', this.onExit);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BeepkitError('E_IO', `lock ${this.path}: ${(e as Error).message}`, { cause: e });
      } finally {
        await unlink(tmp).catch(() => {});
      }
      const pid = await readFile(this.path, 'utf8')
        .then((t) => Number((JSON.parse(t) as { pid?: unknown }).pid))
        .catch(() => NaN);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new BeepkitError('E_BUSY', `the data directory ${this.dataDir} is in use by process ${pid} (a running wearable)`);
      }
      await unlink(this.path).catch(() => {}); // stale: its process is gone (or the file is unreadable)
    }
    throw new BeepkitError('E_BUSY', `could not take the lock ${this.path}`);
  }

  /** Releases the lock if this process still holds it. */
  releaseSync(): void {
    if (!this.held) return;
    this.held = false;
    process.off('exit', this.onExit);
    try {
      const held = JSON.parse(readFileSync(this.path, 'utf8')) as { pid?: unknown };
      if (held.pid === process.pid) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function reply(sock: Socket, r: ControlReply): void {
  sock.end(JSON.stringify(r) + '\n');
}

/** The running wearable's side: serves `handler` on the control socket; records the path in the data dir. */
export class ControlServer {
  private server?: Server;
  path?: string;
  constructor(private readonly o: { dataDir: string; handler: ControlHandler; socketBase?: string }) {}

  async start(): Promise<string> {
    const path = await socketPathFor(this.o.dataDir, this.o.socketBase);
    await unlink(path).catch(() => {}); // the caller holds the directory lock: a socket left there is stale
    const server = createServer((sock) => this.onConnection(sock));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(path, () => res());
    });
    server.on('error', () => {});
    await chmod(path, 0o600);
    this.server = server;
    this.path = path;
    const rec = join(this.o.dataDir, CONTROL_FILE);
    await writeFile(rec + '.tmp', JSON.stringify({ socket: path, pid: process.pid }), { mode: 0o600 });
    await rename(rec + '.tmp', rec);
    return path;
  }

  private onConnection(sock: Socket): void {
    let buf = '';
    let done = false;
    sock.setEncoding('utf8');
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => {});
    sock.on('data', (chunk: string) => {
      if (done) return;
      buf += chunk;
      if (buf.length > MAX_REQUEST) {
        done = true;
        return reply(sock, { ok: false, code: 'E_RANGE', message: 'request too long' });
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      done = true;
      let req: ControlRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
        if (typeof req?.op !== 'string') throw new Error('no op');
      } catch {
        return reply(sock, { ok: false, code: 'E_FORMAT', message: 'expected one JSON line {"op": …}' });
      }
      this.o.handler(req).then(
        (r) => reply(sock, { ok: true, ...r }),
        (e: unknown) => reply(sock, { ok: false, code: (e as { code?: string })?.code ?? 'E_INTERNAL', message: String((e as Error)?.message ?? e) }),
      );
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((r) => s.close(() => r()));
    if (this.path) await unlink(this.path).catch(() => {});
    await unlink(join(this.o.dataDir, CONTROL_FILE)).catch(() => {});
  }
}

/**
 * Sends one request to the wearable running on `dataDir`. Resolves undefined when none answers (no
 * control.json, no socket, nobody listening); a refusal by the running wearable rejects with its code.
 */
export async function controlRequest(dataDir: string, req: ControlRequest, timeoutMs = 30_000): Promise<Record<string, unknown> | undefined> {
  const rec = await readFile(join(dataDir, CONTROL_FILE), 'utf8').then(
    (t) => JSON.parse(t) as { socket?: unknown },
    () => undefined,
  );
  if (!rec || typeof rec.socket !== 'string') return undefined;
  const path = rec.socket;
  const text = await new Promise<string | undefined>((res, rej) => {
    const sock = createConnection(path);
    let out = '';
    let connected = false;
    const timer = setTimeout(() => {
      sock.destroy();
      rej(new BeepkitError('E_TIMEOUT', `the running wearable did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      sock.write(JSON.stringify(req) + '\n');
    });
    sock.on('data', (c: string) => (out += c));
    sock.on('end', () => {
      clearTimeout(timer);
      res(out);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED'))
        res(undefined); // nobody there
      else rej(new BeepkitError('E_IO', `control socket ${path}: ${e.message}`, { cause: e }));
    });
  });
  if (text === undefined) return undefined;
  let r: ControlReply;
  try {
    r = JSON.parse(text) as ControlReply;
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', 'the running wearable answered something else than JSON', { cause });
  }
  if (!r.ok) throw remoteError(r.code, r.message);
  const { ok: _ok, ...rest } = r;
  return rest;
}
