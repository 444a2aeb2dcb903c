/**
 * The per-kit API token of the agent's local HTTP API (issue 20): 32 random
 * bytes as 64 hex digits in `<dataDir>/api-token` (mode 0600), made at the
 * first start and kept. Whoever can read the data dir drives the API (the
 * agent's own CLI reads it from there); a web page in the carer's browser
 * cannot. Never logged.
 */
import { readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { checkPrivateFile } from '@beepkit/device-core/keys';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';

export const API_TOKEN_FILE = 'api-token';
/** The port the running agent's API is bound to (written at start, removed at stop): with `http.port: 0` the CLI finds it here. */
export const API_PORT_FILE = 'api-port';
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

/** Records the bound port for the agent's own CLI. */
export async function writeApiPort(dataDir: string, port: number): Promise<void> {
  await writeFileAtomic(join(dataDir, API_PORT_FILE), new TextEncoder().encode(`${port}\n`));
}

export async function removeApiPort(dataDir: string): Promise<void> {
  await rm(join(dataDir, API_PORT_FILE), { force: true });
}

/** The port a running agent recorded, if any. */
export async function readApiPort(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, API_PORT_FILE), 'utf8').catch(() => undefined);
  const port = Number(text?.trim());
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}
