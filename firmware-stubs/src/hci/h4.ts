/**
 * H4 framing of host→controller bytes: commands `01 opLo opHi len params`,
 * ACL `02 hLo hHi lenLo lenHi data`. A Transform from bytes to packet
 * objects. Junk (any other indicator) is skipped byte by byte until a valid
 * indicator (one E_HCI per junk run); a packet left incomplete for
 * `partialTimeoutMs` is dropped (E_HCI). Nothing ever throws out of it.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { BeepkitError } from '@beepkit/protocol';

export type H4Packet = { kind: 'cmd'; opcode: number; params: Buffer } | { kind: 'acl'; handle: number; pb: number; bc: number; data: Buffer };

export interface H4ParserOptions {
  /** Drop an incomplete packet after this many ms without completing bytes (default 250). */
  partialTimeoutMs?: number;
}

export class H4Parser extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private inJunk = false;
  private timer?: NodeJS.Timeout;
  private readonly partialTimeoutMs: number;

  constructor(opts: H4ParserOptions = {}) {
    super({ readableObjectMode: true });
    this.partialTimeoutMs = opts.partialTimeoutMs ?? 250;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.drain();
    cb();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    cb(err);
  }

  /** Forget any partial packet (used on a new host attach). */
  clear(): void {
    this.buf = Buffer.alloc(0);
    this.inJunk = false;
    if (this.timer) clearTimeout(this.timer);
  }

  private fail(message: string): void {
    this.emit('hci-error', new BeepkitError('E_HCI', message));
  }

  private drain(): void {
    if (this.timer) clearTimeout(this.timer);
    let off = 0;
    const b = this.buf;
    while (off < b.length) {
      const ind = b[off];
      if (ind !== 0x01 && ind !== 0x02) {
        if (!this.inJunk) this.fail(`junk byte 0x${ind.toString(16).padStart(2, '0')} where an H4 indicator was expected`);
        this.inJunk = true;
        off++;
        continue;
      }
      this.inJunk = false;
      if (ind === 0x01) {
        if (b.length - off < 4) break;
        const len = b[off + 3];
        if (b.length - off < 4 + len) break;
        this.push({ kind: 'cmd', opcode: b.readUInt16LE(off + 1), params: Buffer.from(b.subarray(off + 4, off + 4 + len)) });
        off += 4 + len;
      } else {
        if (b.length - off < 5) break;
        const hf = b.readUInt16LE(off + 1);
        const len = b.readUInt16LE(off + 3);
        if (b.length - off < 5 + len) break;
        const data = Buffer.from(b.subarray(off + 5, off + 5 + len));
        this.push({ kind: 'acl', handle: hf & 0x0fff, pb: (hf >> 12) & 3, bc: (hf >> 14) & 3, data });
        off += 5 + len;
      }
    }
    this.buf = off >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(off));
    if (this.buf.length) {
      this.timer = setTimeout(() => {
        this.fail(`incomplete H4 packet (${this.buf.length} bytes) dropped after ${this.partialTimeoutMs} ms`);
        this.buf = Buffer.alloc(0);
      }, this.partialTimeoutMs);
    }
  }
}
