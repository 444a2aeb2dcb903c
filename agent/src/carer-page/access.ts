/**
 * What guards the carer page (agent/README.md "Carer page"):
 *  - the per-kit carer token: 32 random bytes as 64 hex digits in
 *    `<dataDir>/carer-token` (0600; a token file readable by group or others is
 *    refused, E_PERMISSION), made on first use (`beepkit agent carer token` or the
 *    agent's start), kept; compared in constant time. It opens the page's JSON
 *    endpoints only, not the rest of the local API. Never logged.
 *  - LAN mode's TLS: the kit's own self-signed certificate (EC P-256, made with
 *    the `openssl` binary on first use) in `<dataDir>/carer-page.crt`, its key in
 *    `carer-page.key` (0600), kept across restarts; its SHA-256 fingerprint is
 *    printed by `beepkit agent carer token` so the carer can check what the
 *    browser shows.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BeepkitError } from '@beepkit/protocol';
import { checkPrivateFile } from '@beepkit/device-core/keys';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';

export const CARER_TOKEN_FILE = 'carer-token';
export const KIT_CERT_FILE = 'carer-page.crt';
export const KIT_KEY_FILE = 'carer-page.key';
const TOKEN_RE = /^[0-9a-f]{64}$/;

const enoent = (e: unknown): boolean =>
  ((e as BeepkitError).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' || (e as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The kit's carer token, made (random, 0600, atomic) when there is none. */
export async function ensureCarerToken(dataDir: string): Promise<string> {
  const path = join(dataDir, CARER_TOKEN_FILE);
  try {
    await checkPrivateFile(path, 'carer token file');
    const text = (await readFile(path, 'utf8')).trim();
    if (!TOKEN_RE.test(text)) throw new BeepkitError('E_FORMAT', `carer token file ${path}: expected 64 hex digits (delete it to make a new one)`);
    return text;
  } catch (e) {
    if (!enoent(e)) throw e;
  }
  const token = randomBytes(32).toString('hex');
  await writeFileAtomic(path, token + '\n');
  return token;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of a presented token with the kit's (SHA-256 of both, timingSafeEqual). */
export function carerTokenMatches(presented: string | undefined, token: string): boolean {
  return typeof presented === 'string' && timingSafeEqual(digest(presented), digest(token));
}

export interface KitCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, colon-separated hex (what browsers show). */
  fingerprint: string;
  /** The names the certificate is valid for. */
  names: string[];
}

const run = promisify(execFile);

/** The names of the kit's certificate: localhost, 127.0.0.1, the host name and `<host>.local`, plus `extra`. */
export function kitNames(extra: readonly string[] = []): string[] {
  const h = hostname().toLowerCase();
  return [...new Set(['localhost', '127.0.0.1', ...(h && /^[a-z0-9-]+$/.test(h) ? [h, `${h}.local`] : []), ...extra])];
}

/** The kit's TLS certificate and key from the data dir, made on first use (key 0600). */
export async function ensureKitCertificate(dataDir: string, names: readonly string[] = kitNames()): Promise<KitCertificate> {
  const certPath = join(dataDir, KIT_CERT_FILE);
  const keyPath = join(dataDir, KIT_KEY_FILE);
  try {
    await checkPrivateFile(keyPath, 'carer page TLS key');
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return described(cert, key);
  } catch (e) {
    if (!enoent(e)) throw e;
  }
  const tmp = await mkdtemp(join(dataDir, '.carer-cert-'));
  try {
    await chmod(tmp, 0o700);
    const san = names.map((n) => (/^[0-9.]+$/.test(n) || n.includes(':') ? `IP:${n}` : `DNS:${n}`)).join(',');
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '3650',
        '-subj',
        '/CN=beepkit kit (carer page)',
        '-addext',
        `subjectAltName=${san}`,
        '-addext',
        'basicConstraints=critical,CA:FALSE',
      ],
      { cwd: tmp, timeout: 30_000 },
    ).catch((cause: unknown) => {
      throw new BeepkitError('E_TLS', `carer page: cannot make the kit certificate with openssl (is it installed?): ${(cause as Error).message}`, { cause });
    });
    const [cert, key] = await Promise.all([readFile(join(tmp, 'cert.pem'), 'utf8'), readFile(join(tmp, 'key.pem'), 'utf8')]);
    await writeFileAtomic(keyPath, key, 0o600);
    await writeFileAtomic(certPath, cert, 0o644);
    return described(cert, key);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function described(cert: string, key: string): KitCertificate {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (cause) {
    throw new BeepkitError('E_TLS', `carer page: ${KIT_CERT_FILE} is not a certificate (delete it and ${KIT_KEY_FILE} to make new ones)`, { cause });
  }
  const names = (x.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return { cert, key, fingerprint: x.fingerprint256, names };
}
