/**
 * A JSON value sealed at rest: 24-byte XChaCha20 nonce | XChaCha20-Poly1305(key, JSON, aad),
 * replaced atomically. Absent file: undefined; a file that cannot be read E_IO, a short one E_TRUNCATED, a wrong key
 * or tampering E_DECRYPT, a plaintext that is not JSON E_FORMAT (never "absent": a caller that then saves would
 * replace what it could not read).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BeepkitError } from '@beepkit/protocol';
import { xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import { writeFileAtomic } from '../infra/files.ts';

export async function saveSealedJson(path: string, value: unknown, key: Uint8Array, aad: Uint8Array): Promise<void> {
  const nonce = new Uint8Array(randomBytes(24));
  const sealed = xchachaSeal(key, nonce, new TextEncoder().encode(JSON.stringify(value)), aad);
  const out = new Uint8Array(24 + sealed.length);
  out.set(nonce);
  out.set(sealed, 24);
  await writeFileAtomic(path, out);
}

export async function loadSealedJson<T>(path: string, key: Uint8Array, aad: Uint8Array): Promise<T | undefined> {
  let b: Uint8Array;
  try {
    b = new Uint8Array(await readFile(path));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BeepkitError('E_IO', `${path}: ${(cause as Error).message}`, { cause });
  }
  if (b.length < 24) throw new BeepkitError('E_TRUNCATED', `${path}: too short`);
  const plain = xchachaOpen(key, b.subarray(0, 24), b.subarray(24), aad);
  try {
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', `${path}: not JSON`, { cause });
  }
}
