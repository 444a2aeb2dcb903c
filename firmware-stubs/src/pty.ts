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
import { closeSync } from 'node:fs';
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
  /** Duplex stream on the master: write = bytes the host reads; 'data' = bytes the host wrote. */
  readonly stream: Duplex;
  /** Bytes written to the master and not yet flushed to the kernel. */
  readonly backlog: number;
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
    get backlog() {
      return stream.writableLength;
    },
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
