/**
 * Non-blocking writes to a PTY master. libuv treats a PTY master as a tty it
 * cannot reopen and falls back to *blocking* writes: once a host stops
 * reading (about 18 KB in the kernel buffer), `stream.write()` spins and the
 * whole process hangs. The master fd is O_NONBLOCK (node-pty's openpty), so we
 * write with writeSync, keep what the kernel refuses in our own bounded
 * queue, and retry on a short timer. `backlog` is the real queued byte count.
 */
import { writeSync } from 'node:fs';
import type { Duplex } from 'node:stream';

export class PtyWriter {
  private queue: Buffer[] = [];
  /** Packets that may be discarded on reset (radio-originated). */
  private readonly droppable = new WeakSet<Buffer>();
  private queued = 0;
  /** Bytes of queue[0] already written (a partial packet must be finished, never dropped). */
  private headOffset = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly retryMs = 5,
  ) {}

  /** The master fd behind a tty.ReadStream, if reachable. */
  static fdOf(stream: Duplex): number | undefined {
    const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }

  get backlog(): number {
    return this.queued;
  }

  write(buf: Buffer, droppable = false): void {
    if (this.closed) return;
    if (droppable) this.droppable.add(buf);
    this.queue.push(buf);
    this.queued += buf.length;
    if (this.queue.length === 1) this.flush();
  }

  /** Drops queued droppable packets, never a partially written head (framing stays intact). */
  dropQueued(): number {
    const keep = this.queue.filter((b, i) => (i === 0 && this.headOffset > 0) || !this.droppable.has(b));
    const dropped = this.queue.length - keep.length;
    this.queue = keep;
    this.queued = keep.reduce((n, b) => n + b.length, 0) - this.headOffset;
    if (!keep.length) this.stopTimer();
    return dropped;
  }

  close(): void {
    this.closed = true;
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
        n = writeSync(this.fd, head, this.headOffset, head.length - this.headOffset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        this.close(); // EIO/EBADF: the PTY is gone
        return;
      }
      this.headOffset += n;
      this.queued -= n;
      if (this.headOffset < head.length) break;
      this.queue.shift();
      this.headOffset = 0;
    }
    if (this.queue.length && !this.closed && !this.timer) this.timer = setTimeout(() => this.flush(), this.retryMs);
  }
}
