/**
 * Durable follower cursor: `u8 version (1) | u64 height | 32 prevHash | u64 treeSize | u8 n | n × 32 frontier peak`,
 * replaced atomically after every processed block. An absent file is the genesis cursor.
 */
import { readFile } from 'node:fs/promises';
import { BeepkitError, Reader, Writer } from '@beepkit/protocol';
import { HASH_SIZE } from '@beepkit/protocol/merkle';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';
import { genesisCursor, type ChainCursor } from './verify.ts';

export function encodeCursor(c: ChainCursor): Uint8Array {
  const w = new Writer(64 + c.frontier.length * HASH_SIZE).u8(1).u64(c.height).bytes(c.prevHash, HASH_SIZE).u64(c.treeSize).u8(c.frontier.length);
  for (const p of c.frontier) w.bytes(p, HASH_SIZE);
  return w.finish();
}

export function decodeCursor(b: Uint8Array): ChainCursor {
  const r = new Reader(b, 'follow cursor');
  const v = r.u8('version');
  if (v !== 1) throw new BeepkitError('E_VERSION', `follow cursor version ${v}`);
  const c: ChainCursor = { height: r.u64('height'), prevHash: r.bytes(HASH_SIZE, 'prevHash'), treeSize: r.u64('treeSize'), frontier: [] };
  const n = r.u8('frontier');
  for (let i = 0; i < n; i++) c.frontier.push(r.bytes(HASH_SIZE, 'peak'));
  r.end();
  let bits = 0;
  for (let s = c.treeSize; s > 0; s = Math.floor(s / 2)) bits += s & 1;
  if (bits !== n) throw new BeepkitError('E_RANGE', `follow cursor: ${n} peaks for tree size ${c.treeSize}`);
  return c;
}

export async function loadCursor(path: string): Promise<ChainCursor> {
  let b: Uint8Array;
  try {
    b = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return genesisCursor();
    throw new BeepkitError('E_IO', `follow cursor ${path}: ${(e as Error).message}`, { cause: e });
  }
  return decodeCursor(b);
}

export function saveCursor(path: string, c: ChainCursor): Promise<void> {
  return writeFileAtomic(path, encodeCursor(c));
}
