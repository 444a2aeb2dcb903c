/**
 * Outbox file framing. A file is an 8-byte header ("BKOX", version, flags,
 * 2 reserved) followed by frames: u32 body length | u32 CRC-32C(body) | body.
 * `scanFrames` returns every intact frame and the offset where the intact
 * prefix ends; anything after it (a torn tail) is the caller's to drop.
 */
import { BeepkitError } from '@beepkit/protocol/errors';
import { crc32c } from './crc32c.ts';

export const MAGIC = Uint8Array.of(0x42, 0x4b, 0x4f, 0x58); // "BKOX"
export const VERSION = 1;
export const HEADER_LEN = 8;
export const FRAME_OVERHEAD = 8;
/** Largest body accepted when scanning (guards against a garbage length). */
export const MAX_BODY = 64 * 1024 * 1024;
export const FLAG_ENCRYPTED = 1;

export function encodeHeader(flags: number): Uint8Array {
  const h = new Uint8Array(HEADER_LEN);
  h.set(MAGIC, 0);
  h[4] = VERSION;
  h[5] = flags;
  return h;
}

/** Parses the header; undefined when the file is shorter than a header (torn at creation). */
export function decodeHeader(buf: Uint8Array): { flags: number } | undefined {
  if (buf.length < HEADER_LEN) return undefined;
  for (let i = 0; i < 4; i++) if (buf[i] !== MAGIC[i]) throw new BeepkitError('E_FORMAT', 'outbox: not an outbox file (bad magic)');
  if (buf[4] !== VERSION) throw new BeepkitError('E_VERSION', `outbox: unknown version ${buf[4]}`);
  return { flags: buf[5] };
}

export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_OVERHEAD + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, body.length);
  v.setUint32(4, crc32c(body));
  out.set(body, FRAME_OVERHEAD);
  return out;
}

export interface ScanResult {
  bodies: Uint8Array[];
  /** Offset just past the last intact frame. */
  end: number;
}

/** Walks frames from `start`; stops at the first short, oversize or CRC-failing frame. */
export function scanFrames(buf: Uint8Array, start = HEADER_LEN): ScanResult {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bodies: Uint8Array[] = [];
  let off = start;
  while (off + FRAME_OVERHEAD <= buf.length) {
    const len = v.getUint32(off);
    const crc = v.getUint32(off + 4);
    const bodyAt = off + FRAME_OVERHEAD;
    if (len > MAX_BODY || bodyAt + len > buf.length) break;
    if (crc32c(buf, bodyAt, bodyAt + len) !== crc) break;
    bodies.push(buf.subarray(bodyAt, bodyAt + len));
    off = bodyAt + len;
  }
  return { bodies, end: off };
}
