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
import { SHA256_IV, sha256Compress } from '@beepkit/protocol/crypto';

const W = new Int32Array(64);
const H = new Int32Array(8);
let block = new Uint8Array(256);

function compress(b: Uint8Array, o: number): void {
  const w = W;
  for (let i = 0; i < 16; i++, o += 4) w[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  sha256Compress(H, w);
}

/**
 * SHA-256(`tag` || `msg[from .. to]`) into `out[at .. at + outLen]` (the first
 * `outLen` bytes of the digest, 1–32: a claim key keeps 16). The range spares
 * a view per record hashed in place (a record of a batch's bytes).
 */
export function sha256Into(tag: Uint8Array, msg: Uint8Array, out: Uint8Array, at: number, outLen = 32, from = 0, to = msg.length): void {
  const n = tag.length + to - from;
  const blocks = (n + 9 + 63) >>> 6;
  if (block.length < blocks * 64) block = new Uint8Array(blocks * 128);
  const b = block;
  b.set(tag, 0);
  if (from === 0 && to === msg.length) b.set(msg, tag.length);
  else for (let i = from, j = tag.length; i < to; i++, j++) b[j] = msg[i];
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
  H.set(SHA256_IV);
  for (let o = 0; o < end; o += 64) compress(b, o);
  for (let i = 0; i < outLen; i++) out[at + i] = H[i >>> 2] >>> (24 - 8 * (i & 3));
}
