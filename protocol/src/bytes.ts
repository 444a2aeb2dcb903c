/**
 * Tiny deterministic binary codec toolkit shared by every wire format.
 * Big-endian integers, length-prefixed byte strings; every read is bounds
 * checked and fails with BeepkitError('E_TRUNCATED').
 */
import { BeepkitError } from './errors.ts';

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this {
    checkInt(v, 0, 0xff, 'u8');
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    checkInt(v, 0, 0xffff, 'u16');
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    checkInt(v, 0, 0xffffffff, 'u32');
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }
  i32(v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, 'i32');
    this.ensure(4);
    this.view.setInt32(this.length, v);
    this.length += 4;
    return this;
  }
  /** Unsigned integer up to 2^53-1 as 8 bytes. */
  u64(v: number): this {
    checkInt(v, 0, Number.MAX_SAFE_INTEGER, 'u64');
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt(v));
    this.length += 8;
    return this;
  }
  f64(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.length, v);
    this.length += 8;
    return this;
  }
  /** Raw bytes; when `len` is given the input must have exactly that length. */
  bytes(b: Uint8Array, len?: number): this {
    if (len !== undefined && b.length !== len) throw new BeepkitError('E_RANGE', `expected ${len} bytes, got ${b.length}`);
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  /** u16 length prefix + bytes. */
  vbytes(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }
  /** u32 length prefix + bytes. */
  lbytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  str(s: string): this {
    return this.vbytes(new TextEncoder().encode(s));
  }
  /** The bytes written, in an array of their own: the buffer itself when it is exactly full (no copy; later writes reallocate), else a copy. */
  finish(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length);
  }
}

export class Reader {
  offset = 0;
  private view: DataView;
  /** `copy: false`: bytes()/vbytes()/lbytes() return views into `buf` (zero-copy; valid while `buf` is unchanged). */
  constructor(
    readonly buf: Uint8Array,
    readonly what = 'message',
    readonly copy = true,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number {
    return this.buf.length - this.offset;
  }
  private take(n: number, field: string): number {
    if (this.offset + n > this.buf.length) {
      throw new BeepkitError('E_TRUNCATED', `${this.what}: ${field} needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`);
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8(field = 'u8'): number {
    return this.view.getUint8(this.take(1, field));
  }
  u16(field = 'u16'): number {
    return this.view.getUint16(this.take(2, field));
  }
  u32(field = 'u32'): number {
    return this.view.getUint32(this.take(4, field));
  }
  i32(field = 'i32'): number {
    return this.view.getInt32(this.take(4, field));
  }
  u64(field = 'u64'): number {
    const v = this.view.getBigUint64(this.take(8, field));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BeepkitError('E_RANGE', `${this.what}: ${field} too large`);
    return Number(v);
  }
  f64(field = 'f64'): number {
    return this.view.getFloat64(this.take(8, field));
  }
  bytes(n: number, field = 'bytes'): Uint8Array {
    const at = this.take(n, field);
    return this.copy ? this.buf.slice(at, at + n) : this.buf.subarray(at, at + n);
  }
  vbytes(field = 'vbytes'): Uint8Array {
    return this.bytes(this.u16(field + '.length'), field);
  }
  lbytes(field = 'lbytes'): Uint8Array {
    return this.bytes(this.u32(field + '.length'), field);
  }
  str(field = 'str'): string {
    const b = this.vbytes(field);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch (cause) {
      throw new BeepkitError('E_FORMAT', `${this.what}: ${field} is not valid UTF-8`, { cause });
    }
  }
  /** Throws E_TRAILING unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) throw new BeepkitError('E_TRAILING', `${this.what}: ${this.remaining} trailing bytes`);
  }
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new BeepkitError('E_RANGE', `${what} out of range: ${v}`);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string, what = 'hex'): Uint8Array {
  const clean = s.trim();
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new BeepkitError('E_FORMAT', `${what}: not an even-length hex string`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
