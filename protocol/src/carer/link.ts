/**
 * A message link between carer and wearable (a GATT connection, or an
 * in-memory pair in tests) and the ordered inbox both session drivers read.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '../errors.ts';
import { decodeOuter, encodeOuter, type Outer } from './messages.ts';

export interface LinkEvents {
  message: [Uint8Array];
  close: [];
}

/** One connection: whole messages (fragmentation is the transport's business). */
export interface MessageLink extends EventEmitter<LinkEvents> {
  send(msg: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** The code an abort message carries for an error: its own `E_*` code, else E_INTERNAL. */
export function codeOf(e: unknown): string {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' && /^E_[A-Z0-9_]+$/.test(c) ? c : 'E_INTERNAL';
}

/** The peer ended the session with an abort message: E_ABORTED, its code in `peerCode`. */
export class PeerAbortError extends BeepkitError {
  constructor(readonly peerCode: string) {
    super('E_ABORTED', `peer aborted: ${peerCode}`);
  }
}

/** Buffers a link's messages in order; `next()` resolves with the next one. */
export class Inbox {
  private queue: { bytes: Uint8Array; msg: Outer }[] = [];
  private waiter?: { resolve: (v: { bytes: Uint8Array; msg: Outer }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private failure?: BeepkitError;
  private closed = false;

  constructor(
    private readonly link: MessageLink,
    private readonly timeoutMs = 30_000,
  ) {
    link.on('message', (bytes) => {
      let msg: Outer;
      try {
        msg = decodeOuter(bytes);
      } catch (e) {
        this.fail(e as BeepkitError);
        return;
      }
      if (msg.t === 'abort') this.fail(new PeerAbortError(msg.code));
      else this.push({ bytes, msg });
    });
    link.on('close', () => {
      this.closed = true;
      this.fail(new BeepkitError('E_LINK', 'link closed'));
    });
  }

  private push(m: { bytes: Uint8Array; msg: Outer }): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(m);
    } else this.queue.push(m);
  }

  private fail(e: BeepkitError): void {
    this.failure ??= e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }

  next(): Promise<{ bytes: Uint8Array; msg: Outer }> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new BeepkitError('E_TIMEOUT', `no message within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /**
   * Tells the peer why, then closes. The peer closes on receipt; closing at once could drop the
   * queued abort (the controller disconnects before sending it) and the peer would see only E_LINK,
   * so wait up to `graceMs` for its close first.
   */
  async abort(code: string, graceMs = 2_000): Promise<void> {
    await this.link.send(encodeOuter({ t: 'abort', code })).catch(() => {});
    if (!this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.link.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.link.close().catch(() => {});
  }
}

/** Two connected in-memory links (tests, and a loopback for tools). `cut()` closes both ends. */
export function memoryLinkPair(): { a: MessageLink & { cut(): void }; b: MessageLink & { cut(): void } } {
  let open = true;
  const make = (): MessageLink & { cut(): void; peer?: EventEmitter<LinkEvents> } => {
    const e = new EventEmitter<LinkEvents>() as MessageLink & { cut(): void; peer?: EventEmitter<LinkEvents> };
    e.send = async (msg) => {
      if (!open) throw new BeepkitError('E_LINK', 'link closed');
      const copy = msg.slice();
      setImmediate(() => e.peer!.emit('message', copy)); // in flight when cut: still delivered, before the close
    };
    e.close = async () => e.cut();
    e.cut = () => {
      if (!open) return;
      open = false;
      setImmediate(() => {
        a.emit('close');
        b.emit('close');
      });
    };
    return e;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return { a, b };
}
