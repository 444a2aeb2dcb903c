/**
 * Pseudo-terminals for virtual hardware. The emulator keeps the master side;
 * a host (serialport, noble/bleno's UART driver) opens `path` like a USB
 * serial device. We call @lydell/node-pty's native openpty() directly (its
 * public JS API would read the slave and steal the host's bytes), wrap the
 * master in a tty.ReadStream (a duplex socket), and keep the slave fd open but
 * unread so the master never sees EIO while no host is attached and the raw
 * termios the host sets survives host restarts.
 */
import { createRequire } from 'node:module';
import { closeSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import type { Duplex } from 'node:stream';
import { BeepkitError } from '@beepkit/protocol';

interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

let native: NativePty | undefined;
function loadNative(): NativePty {
  if (native) return native;
  const require = createRequire(import.meta.url);
  try {
    const { requireBinary } = require('@lydell/node-pty/requireBinary.js') as { requireBinary(f: string): NativePty };
    native = requireBinary('pty.node');
  } catch (cause) {
    throw new BeepkitError('E_IO', 'no PTY support: @lydell/node-pty native module could not be loaded', { cause });
  }
  return native;
}

export interface Pty {
  /** The slave device path a host opens (e.g. /dev/pts/7). */
  readonly path: string;
  /**
   * Duplex stream on the master: 'data' = bytes the host wrote. Do not write to
   * it: libuv treats a PTY master as a tty with blocking writes and spins once a
   * host stops reading (~18 KB in the kernel), freezing the process. Write
   * through a `PtyWriter` on `fd` instead.
   */
  readonly stream: Duplex;
  /** The master file descriptor (O_NONBLOCK). */
  readonly fd: number;
  /** Closes master and slave; the path disappears. Idempotent. */
  close(): void;
}

export function openPty(): Pty {
  const { master, slave, pty } = loadNative().open(80, 24);
  const stream = new tty.ReadStream(master);
  // tty.ReadStream is a net.Socket: writable too. Swallow EIO/EAGAIN noise on close.
  stream.on('error', () => {});
  let closed = false;
  return {
    path: pty,
    stream,
    fd: master,
    close() {
      if (closed) return;
      closed = true;
      stream.destroy();
      try {
        closeSync(slave);
      } catch {
        /* already closed */
      }
    },
  };
}

interface Queued {
  buf: Buffer;
  droppable: boolean;
  done: () => void;
}

/**
 * Ordered, bounded, non-blocking writes to a PTY master: writeSync on the
 * O_NONBLOCK fd, what the kernel refuses stays in our queue and is retried on
 * a short timer. `backlog` is the real number of queued bytes, so callers can
 * drop radio-originated traffic when a host stops reading.
 */
export class PtyWriter {
  private queue: Queued[] = [];
  private queued = 0;
  /** Bytes of the head already written: a partly written packet is finished, never dropped. */
  private headOffset = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly retryMs = 5,
  ) {}

  get backlog(): number {
    return this.queued;
  }

  /**
   * Queues `buf`. Resolves when the kernel took all of it, or when it was dropped
   * (`droppable` buffers, on `dropQueued()`) or the writer closed.
   */
  write(buf: Buffer, droppable = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((done) => {
      this.queue.push({ buf, droppable, done });
      this.queued += buf.length;
      if (this.queue.length === 1) this.flush();
    });
  }

  /** Drops queued droppable buffers, never a partly written head; returns how many. */
  dropQueued(): number {
    const keep: Queued[] = [];
    let dropped = 0;
    this.queue.forEach((q, i) => {
      if ((i === 0 && this.headOffset > 0) || !q.droppable) keep.push(q);
      else {
        dropped++;
        q.done();
      }
    });
    this.queue = keep;
    this.queued = keep.reduce((n, q) => n + q.buf.length, 0) - this.headOffset;
    if (!keep.length) this.stopTimer();
    return dropped;
  }

  close(): void {
    this.closed = true;
    for (const q of this.queue) q.done();
    this.queue = [];
    this.queued = 0;
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    while (this.queue.length && !this.closed) {
      const head = this.queue[0];
      let n: number;
      try {
        n = writeSync(this.fd, head.buf, this.headOffset, head.buf.length - this.headOffset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        this.close(); // EIO/EBADF: the PTY is gone
        return;
      }
      this.headOffset += n;
      this.queued -= n;
      if (this.headOffset < head.buf.length) break;
      this.queue.shift();
      this.headOffset = 0;
      head.done();
    }
    if (this.queue.length && !this.closed && !this.timer) this.timer = setTimeout(() => this.flush(), this.retryMs);
  }
}
