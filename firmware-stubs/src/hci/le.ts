/**
 * Little-endian field helpers for HCI (protocol/bytes is big-endian, HCI is
 * little-endian). The reader is bounds-checked and throws only
 * BeepkitError('E_TRUNCATED').
 */
import { BeepkitError } from '@beepkit/protocol';

export class LeReader {
  offset = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
  ) {}
  private need(n: number, field: string): void {
    if (this.offset + n > this.buf.length) {
      throw new BeepkitError('E_TRUNCATED', `${this.what}.${field}: need ${n} bytes at ${this.offset}, have ${this.buf.length - this.offset}`);
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.offset++];
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return Buffer.from(v);
  }
  /** Asserts the parameters were consumed exactly. */
  end(): void {
    if (this.offset !== this.buf.length) {
      throw new BeepkitError('E_TRAILING', `${this.what}: ${this.buf.length - this.offset} unexpected trailing bytes`);
    }
  }
}

/** Builds little-endian byte sequences: le(u8(1), u16(0x0c03), bytes(addr)). */
export class LeWriter {
  private parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  i8(v: number): this {
    return this.u8(v < 0 ? 256 + v : v);
  }
  u16(v: number): this {
    this.parts.push(v & 0xff, (v >> 8) & 0xff);
    return this;
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.parts.push(0);
    return this;
  }
  done(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** 'aa:bb:cc:dd:ee:ff' (display, big-endian) ↔ 6 little-endian bytes. */
export function addrToString(le: Uint8Array): string {
  return [...le]
    .reverse()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}
export function addrFromString(s: string): Buffer {
  const hex = s.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new BeepkitError('E_FORMAT', `bad Bluetooth address ${s}`);
  return Buffer.from(hex, 'hex').reverse();
}
