/**
 * A guard between a client socket and aedes. aedes (and mqtt-packet under it)
 * buffers a packet until its announced remaining length has arrived, before
 * and after authentication, with no size limit. The guard reads the MQTT fixed
 * header of every packet as bytes pass (type, remaining length: ≤ 5 bytes) and
 * closes the socket the moment a header announces more than the connection may
 * send, so an oversized payload is never buffered:
 *
 * - before authentication: the first packet must be a CONNECT, and the
 *   connection may send at most `maxPreAuthBytes` in all (the CONNECT and
 *   anything pipelined after it) until its CONNECT is accepted;
 * - after: packets up to `maxPacketBytes` (devices) or `superuserMaxPacketBytes`;
 * - devices: inbound bytes per second above `maxBytesPerSecond` pause the
 *   socket (TCP back-pressure), and a send buffer above `maxQueuedBytes` (a
 *   device that stops reading) disconnects it; writes to a device never
 *   push back on aedes, so a frozen device cannot stall deliveries to others.
 */
import { Duplex } from 'node:stream';
import type net from 'node:net';
import type { BrokerLimits } from './limits.ts';

export type GuardViolation = 'preauth-bytes' | 'not-connect' | 'packet-size' | 'malformed-length' | 'send-queue';

const CONNECT = 1;

export class GuardedConnection extends Duplex {
  readonly #sock: net.Socket;
  readonly #limits: BrokerLimits;
  readonly #onViolation: (why: GuardViolation, announced: number) => void;
  readonly #now: () => number;
  /** Set when the CONNECT is accepted. */
  #auth: 'none' | 'device' | 'superuser' = 'none';
  #received = 0;
  #packets = 0;
  // fixed-header parser state
  #skip = 0; // payload bytes of the current packet still to pass
  #type = -1; // type of the packet whose header is being read (-1: expecting the first byte)
  #len = 0;
  #mul = 1;
  #lenBytes = 0;
  // inbound byte budget (devices)
  #tokens = 0;
  #atMs = 0;
  #resumeTimer?: NodeJS.Timeout;
  #dead = false;

  constructor(sock: net.Socket, limits: BrokerLimits, now: () => number, onViolation: (why: GuardViolation, announced: number) => void) {
    super({ allowHalfOpen: false });
    this.#sock = sock;
    this.#limits = limits;
    this.#now = now;
    this.#onViolation = onViolation;
    sock.on('data', (chunk: Buffer) => this.#onData(chunk));
    sock.on('end', () => this.push(null));
    sock.on('close', () => this.destroy());
    sock.on('error', (err) => this.destroy(err));
  }

  get remoteAddress(): string | undefined {
    return this.#sock.remoteAddress;
  }

  /** Called when the broker accepts the CONNECT. */
  authenticated(superuser: boolean): void {
    this.#auth = superuser ? 'superuser' : 'device';
    this.#tokens = this.#limits.maxPacketBytes * 2;
    this.#atMs = this.#now();
  }

  #violate(why: GuardViolation, announced = 0): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#onViolation(why, announced);
    this.#sock.destroy();
    this.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#dead) return;
    if (!this.#scan(chunk)) return;
    if (this.#auth === 'none') {
      this.#received += chunk.length;
      if (this.#received > this.#limits.maxPreAuthBytes) return this.#violate('preauth-bytes', this.#received);
    }
    if (this.#auth === 'device') this.#meter(chunk.length);
    if (!this.push(chunk)) this.#sock.pause();
  }

  /** Walks the fixed headers in `chunk`; false after a violation. */
  #scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const b = chunk[i++];
      if (this.#type < 0) {
        this.#type = b >> 4;
        this.#len = 0;
        this.#mul = 1;
        this.#lenBytes = 0;
        if (this.#packets === 0 && this.#type !== CONNECT) return (this.#violate('not-connect'), false);
        continue;
      }
      this.#len += (b & 0x7f) * this.#mul;
      this.#mul *= 128;
      if (++this.#lenBytes > 4) return (this.#violate('malformed-length'), false);
      if (b & 0x80) continue;
      const total = 1 + this.#lenBytes + this.#len;
      const max =
        this.#auth === 'none' ? this.#limits.maxPreAuthBytes : this.#auth === 'device' ? this.#limits.maxPacketBytes : this.#limits.superuserMaxPacketBytes;
      if (total > max) return (this.#violate('packet-size', total), false);
      this.#packets++;
      this.#skip = this.#len;
      this.#type = -1;
    }
    return true;
  }

  /** Token bucket of inbound bytes: pauses the socket until the budget is back. */
  #meter(n: number): void {
    const now = this.#now();
    const rate = this.#limits.maxBytesPerSecond;
    this.#tokens = Math.min(this.#limits.maxPacketBytes * 2, this.#tokens + ((now - this.#atMs) / 1000) * rate) - n;
    this.#atMs = now;
    if (this.#tokens >= 0 || this.#resumeTimer) return;
    this.#sock.pause();
    this.#resumeTimer = setTimeout(
      () => {
        this.#resumeTimer = undefined;
        if (!this.#dead) this.#sock.resume();
      },
      Math.ceil((-this.#tokens / rate) * 1000),
    );
    this.#resumeTimer.unref();
  }

  override _read(): void {
    if (!this.#resumeTimer && !this.#dead) this.#sock.resume();
  }

  override _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#dead) return cb();
    this.#written(this.#sock.write(chunk, enc), cb);
  }

  /** aedes (mqtt-packet) writes a packet in pieces, corked: one socket write for them all, not one syscall each. */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    if (this.#dead) return cb();
    this.#sock.cork();
    let ok = true;
    for (const c of chunks) ok = this.#sock.write(c.chunk, c.encoding);
    this.#sock.uncork();
    this.#written(ok, cb);
  }

  #written(ok: boolean, cb: (err?: Error | null) => void): void {
    if (this.#auth === 'device') {
      // Never push back on aedes for a device: a frozen reader would hold aedes' delivery slots and
      // stall the feed for everyone (drainTimeout). Its send buffer grows instead, up to maxQueuedBytes.
      const queued = this.#sock.writableLength;
      if (queued > this.#limits.maxQueuedBytes) this.#violate('send-queue', queued);
      return cb();
    }
    if (ok) cb();
    else this.#sock.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#sock.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.#resumeTimer);
    this.#dead = true;
    this.#sock.destroy();
    cb(err);
  }
}
