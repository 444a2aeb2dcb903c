/**
 * One-shot SHA-256: `crypto.hash` (Node ≥ 20.12, no Hash object: the ingest hot
 * path) where the runtime has it, `createHash` otherwise. The kit's Node floor is
 * 20.11.0, the newest Node 20 that npm ships for 32-bit ARM (Raspberry Pi OS
 * 32-bit), which lacks `crypto.hash`: a named import of it would fail to link.
 */
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: crypto.BinaryLike, outputEncoding: 'buffer') => Buffer;

const oneShot = (crypto as { hash?: OneShot }).hash;

export const sha256: (data: crypto.BinaryLike) => Buffer = oneShot
  ? (data) => oneShot('sha256', data, 'buffer')
  : (data) => crypto.createHash('sha256').update(data).digest();
