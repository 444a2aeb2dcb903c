/**
 * Allocation-free ChaCha20-Poly1305 (RFC 8439) open for many short records
 * under one key: the solver's hot path (a 30-byte TraceCode plaintext costs
 * two ChaCha20 blocks and eight Poly1305 blocks; node:crypto's per-call
 * cipher set-up costs more than that). Same bytes as `chachaOpen`, which stays
 * the general API; the tests cross-check the two on random inputs.
 *
 * Poly1305 follows poly1305-donna-16 (ten 13-bit limbs, exact in doubles);
 * the tag comparison is constant-time; no plaintext is written unless the tag
 * verifies.
 */
import { BeepkitError } from '../errors.ts';

const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** One ChaCha20 block (20 rounds) of key words `k`, `counter` and nonce words n0..n2, into `out` (16 words). */
function chachaBlock(k: Int32Array, counter: number, n0: number, n1: number, n2: number, out: Int32Array): void {
  const j4 = k[0], j5 = k[1], j6 = k[2], j7 = k[3], j8 = k[4], j9 = k[5], j10 = k[6], j11 = k[7];
  let x0 = SIGMA0, x1 = SIGMA1, x2 = SIGMA2, x3 = SIGMA3;
  let x4 = j4, x5 = j5, x6 = j6, x7 = j7, x8 = j8, x9 = j9, x10 = j10, x11 = j11;
  let x12 = counter | 0, x13 = n0, x14 = n1, x15 = n2;
  for (let i = 0; i < 10; i++) {
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 16); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 8); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 7);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 16); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 8); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 7);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 16); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 8); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 7);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 16); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 8); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 7);
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 16); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 8); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 7);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 16); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 8); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 7);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 16); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 8); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 7);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 16); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 8); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 7);
  }
  out[0] = x0 + SIGMA0; out[1] = x1 + SIGMA1; out[2] = x2 + SIGMA2; out[3] = x3 + SIGMA3;
  out[4] = x4 + j4; out[5] = x5 + j5; out[6] = x6 + j6; out[7] = x7 + j7;
  out[8] = x8 + j8; out[9] = x9 + j9; out[10] = x10 + j10; out[11] = x11 + j11;
  out[12] = x12 + counter; out[13] = x13 + n0; out[14] = x14 + n1; out[15] = x15 + n2;
}

const u16le = (a: Uint8Array, i: number): number => a[i] | (a[i + 1] << 8);
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
  private readonly r = new Float64Array(10);
  private readonly h = new Float64Array(10);
  private readonly pad = new Uint16Array(8);
  private readonly tail = new Uint8Array(16);

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
  open(n0: number, n1: number, n2: number, aad: Uint8Array, aadOff: number, aadLen: number, src: Uint8Array, ctOff: number, ctLen: number, out: Uint8Array, outOff: number): boolean {
    const b = this.blk;
    chachaBlock(this.k, 0, n0, n1, n2, b);
    this.polyInit(b);
    this.absorb(aad, aadOff, aadLen);
    this.absorb(src, ctOff, ctLen);
    const t = this.tail;
    t.fill(0);
    t[0] = aadLen & 0xff; t[1] = (aadLen >>> 8) & 0xff; t[2] = (aadLen >>> 16) & 0xff; t[3] = aadLen >>> 24;
    t[8] = ctLen & 0xff; t[9] = (ctLen >>> 8) & 0xff; t[10] = (ctLen >>> 16) & 0xff; t[11] = ctLen >>> 24;
    this.block(t, 0);
    if (!this.finishAndCompare(src, ctOff + ctLen)) return false;
    for (let i = 0, ctr = 1; i < ctLen; ctr++) {
      chachaBlock(this.k, ctr, n0, n1, n2, b);
      for (let j = 0; j < 64 && i < ctLen; j++, i++) out[outOff + i] = src[ctOff + i] ^ ((b[j >> 2] >>> ((j & 3) << 3)) & 0xff);
    }
    return true;
  }

  private polyInit(b: Int32Array): void {
    const t0 = b[0] & 0xffff, t1 = b[0] >>> 16, t2 = b[1] & 0xffff, t3 = b[1] >>> 16;
    const t4 = b[2] & 0xffff, t5 = b[2] >>> 16, t6 = b[3] & 0xffff, t7 = b[3] >>> 16;
    const r = this.r;
    r[0] = t0 & 0x1fff;
    r[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    r[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1f03;
    r[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    r[4] = ((t3 >>> 4) | (t4 << 12)) & 0x00ff;
    r[5] = (t4 >>> 1) & 0x1ffe;
    r[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    r[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1f81;
    r[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    r[9] = (t7 >>> 5) & 0x007f;
    for (let i = 0; i < 4; i++) {
      this.pad[2 * i] = b[4 + i] & 0xffff;
      this.pad[2 * i + 1] = b[4 + i] >>> 16;
    }
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

  /** One full 16-byte block (hibit set), poly1305-donna-16. */
  private block(data: Uint8Array, o: number): void {
    const h = this.h, r = this.r;
    const r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5], r6 = r[6], r7 = r[7], r8 = r[8], r9 = r[9];
    const t0 = u16le(data, o), t1 = u16le(data, o + 2), t2 = u16le(data, o + 4), t3 = u16le(data, o + 6);
    const t4 = u16le(data, o + 8), t5 = u16le(data, o + 10), t6 = u16le(data, o + 12), t7 = u16le(data, o + 14);
    const h0 = h[0] + (t0 & 0x1fff);
    const h1 = h[1] + (((t0 >>> 13) | (t1 << 3)) & 0x1fff);
    const h2 = h[2] + (((t1 >>> 10) | (t2 << 6)) & 0x1fff);
    const h3 = h[3] + (((t2 >>> 7) | (t3 << 9)) & 0x1fff);
    const h4 = h[4] + (((t3 >>> 4) | (t4 << 12)) & 0x1fff);
    const h5 = h[5] + ((t4 >>> 1) & 0x1fff);
    const h6 = h[6] + (((t4 >>> 14) | (t5 << 2)) & 0x1fff);
    const h7 = h[7] + (((t5 >>> 11) | (t6 << 5)) & 0x1fff);
    const h8 = h[8] + (((t6 >>> 8) | (t7 << 8)) & 0x1fff);
    const h9 = h[9] + ((t7 >>> 5) | (1 << 11));
    const s1 = 5 * r1, s2 = 5 * r2, s3 = 5 * r3, s4 = 5 * r4, s5 = 5 * r5, s6 = 5 * r6, s7 = 5 * r7, s8 = 5 * r8, s9 = 5 * r9;
    let c = 0;
    let d0 = c + h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6;
    c = d0 >>> 13; d0 &= 0x1fff;
    d0 += h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
    c += d0 >>> 13; d0 &= 0x1fff;
    let d1 = c + h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7;
    c = d1 >>> 13; d1 &= 0x1fff;
    d1 += h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
    c += d1 >>> 13; d1 &= 0x1fff;
    let d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8;
    c = d2 >>> 13; d2 &= 0x1fff;
    d2 += h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
    c += d2 >>> 13; d2 &= 0x1fff;
    let d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9;
    c = d3 >>> 13; d3 &= 0x1fff;
    d3 += h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
    c += d3 >>> 13; d3 &= 0x1fff;
    let d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    c = d4 >>> 13; d4 &= 0x1fff;
    d4 += h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
    c += d4 >>> 13; d4 &= 0x1fff;
    let d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1;
    c = d5 >>> 13; d5 &= 0x1fff;
    d5 += h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
    c += d5 >>> 13; d5 &= 0x1fff;
    let d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2;
    c = d6 >>> 13; d6 &= 0x1fff;
    d6 += h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
    c += d6 >>> 13; d6 &= 0x1fff;
    let d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3;
    c = d7 >>> 13; d7 &= 0x1fff;
    d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
    c += d7 >>> 13; d7 &= 0x1fff;
    let d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4;
    c = d8 >>> 13; d8 &= 0x1fff;
    d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
    c += d8 >>> 13; d8 &= 0x1fff;
    let d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5;
    c = d9 >>> 13; d9 &= 0x1fff;
    d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    c += d9 >>> 13; d9 &= 0x1fff;
    c = ((c << 2) + c) | 0;
    c = (c + d0) | 0;
    h[0] = c & 0x1fff;
    h[1] = d1 + (c >>> 13);
    h[2] = d2; h[3] = d3; h[4] = d4; h[5] = d5; h[6] = d6; h[7] = d7; h[8] = d8; h[9] = d9;
  }

  /** Final reduction, + pad, constant-time comparison with the tag at `tag[off]`. */
  private finishAndCompare(tag: Uint8Array, off: number): boolean {
    const h = this.h;
    let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9];
    let c = h1 >>> 13;
    h1 &= 0x1fff;
    h2 += c; c = h2 >>> 13; h2 &= 0x1fff;
    h3 += c; c = h3 >>> 13; h3 &= 0x1fff;
    h4 += c; c = h4 >>> 13; h4 &= 0x1fff;
    h5 += c; c = h5 >>> 13; h5 &= 0x1fff;
    h6 += c; c = h6 >>> 13; h6 &= 0x1fff;
    h7 += c; c = h7 >>> 13; h7 &= 0x1fff;
    h8 += c; c = h8 >>> 13; h8 &= 0x1fff;
    h9 += c; c = h9 >>> 13; h9 &= 0x1fff;
    h0 += c * 5; c = h0 >>> 13; h0 &= 0x1fff;
    h1 += c; c = h1 >>> 13; h1 &= 0x1fff;
    h2 += c;
    // g = h + 5 - 2^130; take g when it did not underflow (h >= p)
    let g0 = h0 + 5; c = g0 >>> 13; g0 &= 0x1fff;
    let g1 = h1 + c; c = g1 >>> 13; g1 &= 0x1fff;
    let g2 = h2 + c; c = g2 >>> 13; g2 &= 0x1fff;
    let g3 = h3 + c; c = g3 >>> 13; g3 &= 0x1fff;
    let g4 = h4 + c; c = g4 >>> 13; g4 &= 0x1fff;
    let g5 = h5 + c; c = g5 >>> 13; g5 &= 0x1fff;
    let g6 = h6 + c; c = g6 >>> 13; g6 &= 0x1fff;
    let g7 = h7 + c; c = g7 >>> 13; g7 &= 0x1fff;
    let g8 = h8 + c; c = g8 >>> 13; g8 &= 0x1fff;
    let g9 = h9 + c; c = g9 >>> 13; g9 &= 0x1fff;
    g9 = (g9 - (1 << 13)) & 0xffff;
    const mg = ((c ^ 1) - 1) & 0xffff;
    const mh = ~mg & 0xffff;
    h0 = (h0 & mh) | (g0 & mg); h1 = (h1 & mh) | (g1 & mg); h2 = (h2 & mh) | (g2 & mg); h3 = (h3 & mh) | (g3 & mg); h4 = (h4 & mh) | (g4 & mg);
    h5 = (h5 & mh) | (g5 & mg); h6 = (h6 & mh) | (g6 & mg); h7 = (h7 & mh) | (g7 & mg); h8 = (h8 & mh) | (g8 & mg); h9 = (h9 & mh) | (g9 & mg);
    const p = this.pad;
    let f = ((h0 | (h1 << 13)) & 0xffff) + p[0];
    let diff = (f & 0xffff) ^ u16le(tag, off);
    f = (((h1 >>> 3) | (h2 << 10)) & 0xffff) + p[1] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 2);
    f = (((h2 >>> 6) | (h3 << 7)) & 0xffff) + p[2] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 4);
    f = (((h3 >>> 9) | (h4 << 4)) & 0xffff) + p[3] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 6);
    f = (((h4 >>> 12) | (h5 << 1) | (h6 << 14)) & 0xffff) + p[4] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 8);
    f = (((h6 >>> 2) | (h7 << 11)) & 0xffff) + p[5] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 10);
    f = (((h7 >>> 5) | (h8 << 8)) & 0xffff) + p[6] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 12);
    f = (((h8 >>> 8) | (h9 << 5)) & 0xffff) + p[7] + (f >>> 16);
    diff |= (f & 0xffff) ^ u16le(tag, off + 14);
    return diff === 0;
  }
}
