/**
 * Allocation-free ChaCha20-Poly1305 (RFC 8439) open for many short records
 * under one key: the solver's hot path (a 30-byte TraceCode plaintext costs
 * two ChaCha20 blocks and eight Poly1305 blocks; node:crypto's per-call
 * cipher set-up costs more than that). Same bytes as `chachaOpen`, which stays
 * the general API; the tests cross-check the two on random inputs.
 *
 * Poly1305 uses six 22-bit limbs in doubles (36 exact products per block);
 * the tag comparison and the final reduction are branch-free; no plaintext is
 * written unless the tag verifies.
 */
import { BeepkitError } from '../errors.ts';

const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** One ChaCha20 block (20 rounds) of key words `k`, `counter` and nonce words n0..n2, into `out` (16 words). */
function chachaBlock(k: Int32Array, counter: number, n0: number, n1: number, n2: number, out: Int32Array): void {
  const j4 = k[0],
    j5 = k[1],
    j6 = k[2],
    j7 = k[3],
    j8 = k[4],
    j9 = k[5],
    j10 = k[6],
    j11 = k[7];
  let x0 = SIGMA0,
    x1 = SIGMA1,
    x2 = SIGMA2,
    x3 = SIGMA3;
  let x4 = j4,
    x5 = j5,
    x6 = j6,
    x7 = j7,
    x8 = j8,
    x9 = j9,
    x10 = j10,
    x11 = j11;
  let x12 = counter | 0,
    x13 = n0,
    x14 = n1,
    x15 = n2;
  for (let i = 0; i < 10; i++) {
    x0 = (x0 + x4) | 0;
    x12 = rotl(x12 ^ x0, 16);
    x8 = (x8 + x12) | 0;
    x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0;
    x12 = rotl(x12 ^ x0, 8);
    x8 = (x8 + x12) | 0;
    x4 = rotl(x4 ^ x8, 7);
    x1 = (x1 + x5) | 0;
    x13 = rotl(x13 ^ x1, 16);
    x9 = (x9 + x13) | 0;
    x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0;
    x13 = rotl(x13 ^ x1, 8);
    x9 = (x9 + x13) | 0;
    x5 = rotl(x5 ^ x9, 7);
    x2 = (x2 + x6) | 0;
    x14 = rotl(x14 ^ x2, 16);
    x10 = (x10 + x14) | 0;
    x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0;
    x14 = rotl(x14 ^ x2, 8);
    x10 = (x10 + x14) | 0;
    x6 = rotl(x6 ^ x10, 7);
    x3 = (x3 + x7) | 0;
    x15 = rotl(x15 ^ x3, 16);
    x11 = (x11 + x15) | 0;
    x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0;
    x15 = rotl(x15 ^ x3, 8);
    x11 = (x11 + x15) | 0;
    x7 = rotl(x7 ^ x11, 7);
    x0 = (x0 + x5) | 0;
    x15 = rotl(x15 ^ x0, 16);
    x10 = (x10 + x15) | 0;
    x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0;
    x15 = rotl(x15 ^ x0, 8);
    x10 = (x10 + x15) | 0;
    x5 = rotl(x5 ^ x10, 7);
    x1 = (x1 + x6) | 0;
    x12 = rotl(x12 ^ x1, 16);
    x11 = (x11 + x12) | 0;
    x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0;
    x12 = rotl(x12 ^ x1, 8);
    x11 = (x11 + x12) | 0;
    x6 = rotl(x6 ^ x11, 7);
    x2 = (x2 + x7) | 0;
    x13 = rotl(x13 ^ x2, 16);
    x8 = (x8 + x13) | 0;
    x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0;
    x13 = rotl(x13 ^ x2, 8);
    x8 = (x8 + x13) | 0;
    x7 = rotl(x7 ^ x8, 7);
    x3 = (x3 + x4) | 0;
    x14 = rotl(x14 ^ x3, 16);
    x9 = (x9 + x14) | 0;
    x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0;
    x14 = rotl(x14 ^ x3, 8);
    x9 = (x9 + x14) | 0;
    x4 = rotl(x4 ^ x9, 7);
  }
  out[0] = x0 + SIGMA0;
  out[1] = x1 + SIGMA1;
  out[2] = x2 + SIGMA2;
  out[3] = x3 + SIGMA3;
  out[4] = x4 + j4;
  out[5] = x5 + j5;
  out[6] = x6 + j6;
  out[7] = x7 + j7;
  out[8] = x8 + j8;
  out[9] = x9 + j9;
  out[10] = x10 + j10;
  out[11] = x11 + j11;
  out[12] = x12 + counter;
  out[13] = x13 + n0;
  out[14] = x14 + n1;
  out[15] = x15 + n2;
}

const B22 = 4194304;
const INV22 = 1 / B22;
const B20 = 1048576;
const INV20 = 1 / B20;
const INV32 = 1 / 4294967296;
const u32le = (a: Uint8Array, i: number): number => a[i] | (a[i + 1] << 8) | (a[i + 2] << 16) | (a[i + 3] << 24);

/** Nonce word `w` (0..2) of a 12-byte nonce at `a[off]`. */
export const nonceWord = (a: Uint8Array, off: number, w: number): number => u32le(a, off + 4 * w);

/**
 * ChaCha20-Poly1305 opener bound to one key (`setKey`), reusable for any
 * number of records; not re-entrant (scratch state lives in the instance).
 */
export class ChaChaPolyOpener {
  private readonly k = new Int32Array(8);
  private readonly blk = new Int32Array(16);
  private readonly r = new Float64Array(6);
  private readonly h = new Float64Array(6);
  private readonly pad = new Float64Array(4);
  private readonly tail = new Uint8Array(16);
  private readonly mac = new Int32Array(4);

  setKey(key: Uint8Array, off = 0): this {
    if (key.length - off < 32) throw new BeepkitError('E_KEY', 'aead key must be 32 bytes');
    for (let i = 0; i < 8; i++) this.k[i] = u32le(key, off + 4 * i);
    return this;
  }

  /**
   * Opens `ctLen` bytes of ciphertext at `src[ctOff]` followed by its 16-byte
   * tag, nonce words n0..n2, AAD `aad[aadOff .. aadOff + aadLen)`; writes the
   * plaintext to `out[outOff]` and returns true, or returns false (writing
   * nothing) when authentication fails. Callers check bounds.
   */
  open(
    n0: number,
    n1: number,
    n2: number,
    aad: Uint8Array,
    aadOff: number,
    aadLen: number,
    src: Uint8Array,
    ctOff: number,
    ctLen: number,
    out: Uint8Array,
    outOff: number,
  ): boolean {
    const b = this.blk;
    chachaBlock(this.k, 0, n0, n1, n2, b);
    this.polyInit(b);
    this.absorb(aad, aadOff, aadLen);
    this.absorb(src, ctOff, ctLen);
    const t = this.tail;
    t.fill(0);
    t[0] = aadLen & 0xff;
    t[1] = (aadLen >>> 8) & 0xff;
    t[2] = (aadLen >>> 16) & 0xff;
    t[3] = aadLen >>> 24;
    t[8] = ctLen & 0xff;
    t[9] = (ctLen >>> 8) & 0xff;
    t[10] = (ctLen >>> 16) & 0xff;
    t[11] = ctLen >>> 24;
    this.block(t, 0);
    if (!this.finishAndCompare(src, ctOff + ctLen)) return false;
    for (let i = 0, ctr = 1; i < ctLen; ctr++) {
      chachaBlock(this.k, ctr, n0, n1, n2, b);
      for (let j = 0; j < 64 && i < ctLen; j++, i++) out[outOff + i] = src[ctOff + i] ^ ((b[j >> 2] >>> ((j & 3) << 3)) & 0xff);
    }
    return true;
  }

  private polyInit(b: Int32Array): void {
    // r clamped (RFC 8439), then six 22-bit limbs; s = the pad words
    const r = this.r;
    const w0 = b[0] & 0x0fffffff,
      w1 = b[1] & 0x0ffffffc,
      w2 = b[2] & 0x0ffffffc,
      w3 = b[3] & 0x0ffffffc;
    r[0] = w0 & 0x3fffff;
    r[1] = (w0 >>> 22) | ((w1 & 0xfff) << 10);
    r[2] = (w1 >>> 12) | ((w2 & 0x3) << 20);
    r[3] = (w2 >>> 2) & 0x3fffff;
    r[4] = (w2 >>> 24) | ((w3 & 0x3fff) << 8);
    r[5] = w3 >>> 14;
    for (let i = 0; i < 4; i++) this.pad[i] = b[4 + i] >>> 0;
    this.h.fill(0);
  }

  /** Poly1305 over a segment padded with zeros to 16 bytes (RFC 8439 pad16). */
  private absorb(a: Uint8Array, off: number, len: number): void {
    let i = 0;
    for (; i + 16 <= len; i += 16) this.block(a, off + i);
    if (i < len) {
      const t = this.tail;
      t.fill(0);
      for (let j = 0; i + j < len; j++) t[j] = a[off + i + j];
      this.block(t, 0);
    }
  }

  /**
   * One full 16-byte block (hibit set): h = (h + m) · r mod 2^130 - 5 in six
   * 22-bit limbs held in doubles (2^132 ≡ 20; every partial sum stays below
   * 2^52, so the arithmetic is exact).
   */
  private block(d: Uint8Array, o: number, hibit = 1 << 18): void {
    const h = this.h,
      r = this.r;
    const w0 = u32le(d, o) >>> 0,
      w1 = u32le(d, o + 4) >>> 0,
      w2 = u32le(d, o + 8) >>> 0,
      w3 = u32le(d, o + 12) >>> 0;
    const h0 = h[0] + (w0 & 0x3fffff);
    const h1 = h[1] + ((w0 >>> 22) | ((w1 & 0xfff) << 10));
    const h2 = h[2] + ((w1 >>> 12) | ((w2 & 0x3) << 20));
    const h3 = h[3] + ((w2 >>> 2) & 0x3fffff);
    const h4 = h[4] + ((w2 >>> 24) | ((w3 & 0x3fff) << 8));
    const h5 = h[5] + ((w3 >>> 14) | hibit);
    const r0 = r[0],
      r1 = r[1],
      r2 = r[2],
      r3 = r[3],
      r4 = r[4],
      r5 = r[5];
    const s1 = 20 * r1,
      s2 = 20 * r2,
      s3 = 20 * r3,
      s4 = 20 * r4,
      s5 = 20 * r5;
    let d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
    let c = Math.floor(d0 * INV22);
    d0 -= c * B22;
    d1 += c;
    c = Math.floor(d1 * INV22);
    d1 -= c * B22;
    d2 += c;
    c = Math.floor(d2 * INV22);
    d2 -= c * B22;
    d3 += c;
    c = Math.floor(d3 * INV22);
    d3 -= c * B22;
    d4 += c;
    c = Math.floor(d4 * INV22);
    d4 -= c * B22;
    d5 += c;
    c = Math.floor(d5 * INV22);
    d5 -= c * B22;
    d0 += c * 20;
    c = Math.floor(d0 * INV22);
    d0 -= c * B22;
    d1 += c;
    h[0] = d0;
    h[1] = d1;
    h[2] = d2;
    h[3] = d3;
    h[4] = d4;
    h[5] = d5;
  }

  /** Constant-time comparison of the computed tag with the one at `tag[off]`. */
  private finishAndCompare(tag: Uint8Array, off: number): boolean {
    const m = this.finish();
    return ((m[0] ^ u32le(tag, off)) | (m[1] ^ u32le(tag, off + 4)) | (m[2] ^ u32le(tag, off + 8)) | (m[3] ^ u32le(tag, off + 12))) === 0;
  }

  /** Full reduction mod 2^130 - 5, + pad mod 2^128: the tag as four little-endian words. */
  private finish(): Int32Array {
    const h = this.h;
    let h0 = h[0],
      h1 = h[1],
      h2 = h[2],
      h3 = h[3],
      h4 = h[4],
      h5 = h[5];
    for (let pass = 0; pass < 2; pass++) {
      let c = Math.floor(h0 * INV22);
      h0 -= c * B22;
      h1 += c;
      c = Math.floor(h1 * INV22);
      h1 -= c * B22;
      h2 += c;
      c = Math.floor(h2 * INV22);
      h2 -= c * B22;
      h3 += c;
      c = Math.floor(h3 * INV22);
      h3 -= c * B22;
      h4 += c;
      c = Math.floor(h4 * INV22);
      h4 -= c * B22;
      h5 += c;
      c = Math.floor(h5 * INV20);
      h5 -= c * B20;
      h0 += c * 5; // bits ≥ 130
    }
    // now h < 2^130 (limbs normalised but h0 may hold a last + 5·c < 2^22 + 10): one more carry
    let c = Math.floor(h0 * INV22);
    h0 -= c * B22;
    h1 += c;
    c = Math.floor(h1 * INV22);
    h1 -= c * B22;
    h2 += c;
    // g = h + 5; when g ≥ 2^130, h ≥ p and the result is g - 2^130 (selected arithmetically)
    let g0 = h0 + 5;
    c = Math.floor(g0 * INV22);
    g0 -= c * B22;
    let g1 = h1 + c;
    c = Math.floor(g1 * INV22);
    g1 -= c * B22;
    let g2 = h2 + c;
    c = Math.floor(g2 * INV22);
    g2 -= c * B22;
    let g3 = h3 + c;
    c = Math.floor(g3 * INV22);
    g3 -= c * B22;
    let g4 = h4 + c;
    c = Math.floor(g4 * INV22);
    g4 -= c * B22;
    let g5 = h5 + c;
    const sel = Math.floor(g5 * INV20);
    g5 -= sel * B20;
    h0 += sel * (g0 - h0);
    h1 += sel * (g1 - h1);
    h2 += sel * (g2 - h2);
    h3 += sel * (g3 - h3);
    h4 += sel * (g4 - h4);
    h5 += sel * (g5 - h5);
    const p = this.pad;
    const m = this.mac;
    let f = h0 + (h1 & 0x3ff) * B22 + p[0];
    m[0] = f;
    f = (h1 >>> 10) + (h2 & 0xfffff) * 4096 + p[1] + Math.floor(f * INV32);
    m[1] = f;
    f = (h2 >>> 20) + h3 * 4 + (h4 & 0xff) * 16777216 + p[2] + Math.floor(f * INV32);
    m[2] = f;
    f = (h4 >>> 8) + (h5 & 0x3ffff) * 16384 + p[3] + Math.floor(f * INV32);
    m[3] = f;
    return m;
  }

  /** Plain Poly1305 (RFC 8439 §2.5) of `msg` under a 32-byte one-time key: the test hook for the MAC alone. */
  poly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
    if (key.length !== 32) throw new BeepkitError('E_KEY', 'poly1305 key must be 32 bytes');
    const w = new Int32Array(8);
    for (let i = 0; i < 8; i++) w[i] = u32le(key, 4 * i);
    this.polyInit(w);
    let i = 0;
    for (; i + 16 <= msg.length; i += 16) this.block(msg, i);
    if (i < msg.length) {
      const t = this.tail;
      t.fill(0);
      t.set(msg.subarray(i));
      t[msg.length - i] = 1;
      this.block(t, 0, 0);
    }
    const m = this.finish();
    const out = new Uint8Array(16);
    for (let j = 0; j < 16; j++) out[j] = (m[j >> 2] >>> ((j & 3) << 3)) & 0xff;
    return out;
  }
}
