/**
 * SHA-256 (FIPS 180-4) of `tag || msg` written into a caller's buffer, in plain
 * JavaScript, for the ingest hot path's short inputs: the 28 record hashes and
 * 28 claim keys of a day batch (106 and 54 bytes, 2 and 1 compression blocks).
 * There, each `crypto.hash` call costs ~1.5–2 µs of JS wrapper, native
 * dispatch and a fresh Buffer, mostly overhead; this costs ~0.4 µs a block and
 * allocates nothing (one reused block buffer and schedule). Any length is
 * correct (parity with node:crypto is tested for 0–300-byte inputs in
 * gateway/test/ingest-fast.test.ts); long inputs belong to node:crypto.
 * Synchronous and not reentrant (shared scratch state): one call at a time.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const H = new Int32Array(8);
let block = new Uint8Array(256);

function compress(b: Uint8Array, o: number): void {
  const w = W;
  for (let i = 0; i < 16; i++, o += 4) w[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (s0 + w[i - 7] + s1 + w[i - 16]) | 0;
  }
  let a = H[0];
  let bb = H[1];
  let c = H[2];
  let d = H[3];
  let e = H[4];
  let f = H[5];
  let g = H[6];
  let h = H[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + bb) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}

/**
 * SHA-256(`tag` || `msg`) into `out[at .. at + outLen]` (the first `outLen`
 * bytes of the digest, 1–32: a claim key keeps 16).
 */
export function sha256Into(tag: Uint8Array, msg: Uint8Array, out: Uint8Array, at: number, outLen = 32): void {
  const n = tag.length + msg.length;
  const blocks = (n + 9 + 63) >>> 6;
  if (block.length < blocks * 64) block = new Uint8Array(blocks * 128);
  const b = block;
  b.set(tag, 0);
  b.set(msg, tag.length);
  b[n] = 0x80;
  const end = blocks * 64;
  b.fill(0, n + 1, end - 8);
  // bit length, big-endian u64 (inputs here are far below 2^32 bits: the high word is n / 2^29)
  const hi = Math.floor(n / 0x20000000);
  const lo = (n * 8) >>> 0;
  b[end - 8] = hi >>> 24;
  b[end - 7] = hi >>> 16;
  b[end - 6] = hi >>> 8;
  b[end - 5] = hi;
  b[end - 4] = lo >>> 24;
  b[end - 3] = lo >>> 16;
  b[end - 2] = lo >>> 8;
  b[end - 1] = lo;
  H.set(IV);
  for (let o = 0; o < end; o += 64) compress(b, o);
  for (let i = 0; i < outLen; i++) out[at + i] = H[i >>> 2] >>> (24 - 8 * (i & 3));
}
