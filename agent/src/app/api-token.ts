/**
 * The per-kit API token of the agent's local HTTP API (issue 20): 32 random
 * bytes as 64 hex digits in `<dataDir>/api-token` (mode 0600), made at the
 * first start and kept. Whoever can read the data dir drives the API (the
 * agent's own CLI reads it from there); a web page in the carer's browser
 * cannot. Never logged.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { checkPrivateFile, writeFileAtomic } from '../keys/index.ts';

export const API_TOKEN_FILE = 'api-token';
const TOKEN_RE = /^[0-9a-f]{64}$/;

/** Reads a token file: private (0600), 64 hex digits. */
export async function readApiToken(path: string): Promise<string> {
  await checkPrivateFile(path, 'API token file');
  const text = (await readFile(path, 'utf8')).trim();
  if (!TOKEN_RE.test(text)) throw new BeepkitError('E_FORMAT', `API token file ${path}: expected 64 hex digits`);
  return text;
}

/** The kit's token, made (random, 0600, atomic) at the first start. */
export async function ensureApiToken(dataDir: string): Promise<string> {
  const path = join(dataDir, API_TOKEN_FILE);
  try {
    return await readApiToken(path);
  } catch (e) {
    const enoent = ((e as BeepkitError).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (!enoent) throw e;
  }
  const token = randomBytes(32).toString('hex');
  await writeFileAtomic(path, new TextEncoder().encode(token + '\n'));
  return token;
}
