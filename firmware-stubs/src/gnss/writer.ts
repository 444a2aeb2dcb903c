/**
 * Ordered writes to a PTY master that never stall the event loop. libuv treats a PTY master as a TTY with
 * "blocking writes" and spins on EAGAIN when the slave's buffer is full — freezing the event loop, and with
 * it a host reading the slave in the same process. We write with fs.write on the master fd, one write at a
 * time, and on EAGAIN wait a little and retry (never dropping bytes).
 */
import { write } from 'node:fs';
import type { Duplex } from 'node:stream';
import { BeepkitError } from '@beepkit/protocol';

function masterFd(stream: Duplex): number {
  const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new BeepkitError('E_IO', 'PTY master has no file descriptor');
  return fd;
}

export class PtyWriter {
  private readonly fd: number;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private queued = 0;

  constructor(stream: Duplex) {
    this.fd = masterFd(stream);
    stream.once('close', () => (this.closed = true));
  }

  /** Bytes queued and not yet accepted by the kernel. */
  get backlog(): number {
    return this.queued;
  }

  /** Queues `buf`; resolves once the kernel took all of it (or the PTY closed, then the rest is dropped). */
  write(buf: Buffer): Promise<void> {
    this.queued += buf.length;
    this.chain = this.chain.then(async () => {
      let off = 0;
      let wait = 1;
      while (off < buf.length && !this.closed) {
        const n = await new Promise<number>((resolve) =>
          write(this.fd, buf, off, buf.length - off, null, (err, written) => resolve(err ? (err.code === 'EAGAIN' ? 0 : -1) : written)),
        );
        if (n < 0) break;
        if (n === 0) {
          await new Promise((r) => setTimeout(r, wait));
          wait = Math.min(wait * 2, 20);
          continue;
        }
        wait = 1;
        off += n;
      }
      this.queued -= buf.length;
    });
    return this.chain;
  }

  /** Stops writing (pending buffers are dropped: their fd may be reused once the PTY is closed). */
  close(): void {
    this.closed = true;
  }
}
