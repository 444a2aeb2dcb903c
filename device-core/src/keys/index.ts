/**
 * Keystore file layer: the sealed keystore (@beepkit/protocol/keys) on disk.
 * Writes are atomic (temp file + fsync + rename + directory fsync) with mode
 * 0600; opening refuses a group/world-accessible keystore or key file
 * (E_PERMISSION) so a secret that may have leaked is never used silently.
 */
import { readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../infra/files.ts';
import { BeepkitError } from '@beepkit/protocol';
import { xchachaOpen, xchachaSeal } from '@beepkit/protocol/crypto';
import {
  createKeystore,
  dayNumber,
  deriveDayKeys,
  openKeystore,
  purgeKeystore,
  renounceDay,
  rotateMaster,
  sealKeystore,
  setRetention,
  type DayKeys,
  type Kek,
  type KeystoreState,
  type ScryptParams,
} from '@beepkit/protocol/keys';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { hostNow } from '@beepkit/protocol/clock';

export type KeystoreSecret = { passphrase: string; scrypt?: ScryptParams } | { keyFile: string };

export interface KeystoreFileOptions {
  /** Unix seconds now (injectable clock). */
  now?: () => number;
  logger?: Logger;
  /** Create the keystore when the file is absent (a fresh random master from today). */
  create?: boolean | { retentionDays?: number; fromDay?: number };
}

/** Throws E_PERMISSION unless the file is accessible by its owner only. */
export async function checkPrivateFile(path: string, what = 'keystore'): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (cause) {
    throw new BeepkitError('E_IO', `${what} ${path}: ${(cause as Error).message}`, { cause });
  }
  if ((mode & 0o077) !== 0) {
    throw new BeepkitError(
      'E_PERMISSION',
      `${what} ${path} is accessible by group/others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it: run chmod 600 ${path}`,
    );
  }
}

const NONCE = 24;
const TAG = 16;

/**
 * Writes a small sealed file: `magic | 24-byte random nonce | XChaCha20-Poly1305(key, plain, aad)` (aad defaults to
 * the magic), atomically (writeFileAtomic: fsynced, 0600). Read back with readSealedFile.
 */
export async function writeSealedFile(path: string, key: Uint8Array, magic: Uint8Array, plain: Uint8Array, aad: Uint8Array = magic): Promise<void> {
  const nonce = new Uint8Array(randomBytes(NONCE));
  const sealed = xchachaSeal(key, nonce, plain, aad);
  const out = new Uint8Array(magic.length + NONCE + sealed.length);
  out.set(magic);
  out.set(nonce, magic.length);
  out.set(sealed, magic.length + NONCE);
  await writeFileAtomic(path, out);
}

/**
 * The plaintext of a file written by writeSealedFile; undefined when there is no file. Errors: E_IO (unreadable),
 * E_PERMISSION (group/world-accessible), E_FORMAT (another magic), E_TRUNCATED (too short), E_DECRYPT (wrong key,
 * tampered, or another aad).
 */
export async function readSealedFile(path: string, key: Uint8Array, magic: Uint8Array, what: string, aad: Uint8Array = magic): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BeepkitError('E_IO', `${what} ${path}: ${(cause as Error).message}`, { cause });
  }
  await checkPrivateFile(path, what);
  if (bytes.length < magic.length || magic.some((b, i) => bytes[i] !== b)) throw new BeepkitError('E_FORMAT', `${what} ${path}: bad magic`);
  if (bytes.length < magic.length + NONCE + TAG) throw new BeepkitError('E_TRUNCATED', `${what} ${path}: too short`);
  return xchachaOpen(key, bytes.subarray(magic.length, magic.length + NONCE), bytes.subarray(magic.length + NONCE), aad);
}

/** Reads a key file: 32 raw bytes or 64 hex digits (optionally newline-terminated). */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  await checkPrivateFile(path, 'key file');
  const raw = new Uint8Array(await readFile(path));
  if (raw.length === 32) return raw;
  const text = Buffer.from(raw).toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  throw new BeepkitError('E_KEY', `key file ${path} must hold 32 bytes or 64 hex digits`);
}

async function kekOf(secret: KeystoreSecret): Promise<Kek> {
  return 'keyFile' in secret ? { key: await readKeyFile(secret.keyFile) } : secret;
}

export class KeystoreFile {
  private chain: Promise<void> = Promise.resolve();
  private constructor(
    readonly path: string,
    private current: KeystoreState,
    private readonly kek: Kek,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Opens (or with `create`, creates) a keystore file. Wrong secret: E_DECRYPT. */
  static async open(path: string, secret: KeystoreSecret, opts: KeystoreFileOptions = {}): Promise<KeystoreFile> {
    const now = opts.now ?? (() => Math.floor(hostNow() / 1000));
    const log = opts.logger ?? silentLogger;
    const kek = await kekOf(secret);
    let bytes: Uint8Array | undefined;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.create) {
        throw new BeepkitError('E_IO', `keystore ${path}: ${(cause as Error).message}`, { cause });
      }
    }
    if (bytes) {
      await checkPrivateFile(path);
      const ks = new KeystoreFile(path, openKeystore(bytes, kek), kek, now, log);
      log.debug({ path, epochs: ks.current.epochs.length }, 'keystore opened');
      return ks;
    }
    const c = typeof opts.create === 'object' ? opts.create : {};
    const state = createKeystore(new Uint8Array(randomBytes(32)), c.fromDay ?? dayNumber(now()), { retentionDays: c.retentionDays });
    const ks = new KeystoreFile(path, state, kek, now, log);
    await ks.save();
    log.info({ path }, 'keystore created');
    return ks;
  }

  get state(): KeystoreState {
    return this.current;
  }

  today(): number {
    return dayNumber(this.now());
  }

  /** The keys of a day (default today); E_KEY when renounced or purged. */
  dayKeys(day = this.today()): DayKeys {
    return deriveDayKeys(this.current, day);
  }

  renounce(day: number): Promise<void> {
    return this.update((s) => renounceDay(s, day));
  }

  /** Destroys keys older than the retention window as of `today`. */
  purge(today = this.today()): Promise<void> {
    return this.update((s) => purgeKeystore(s, today));
  }

  /** A new random master from `fromDay` (default today) onward. */
  rotate(fromDay = this.today()): Promise<void> {
    return this.update((s) => rotateMaster(s, new Uint8Array(randomBytes(32)), fromDay));
  }

  setRetention(days: number): Promise<void> {
    return this.update((s) => setRetention(s, days));
  }

  /** Seals and writes the current state atomically. */
  save(): Promise<void> {
    return this.update((s) => s);
  }

  private update(f: (s: KeystoreState) => KeystoreState): Promise<void> {
    const run = this.chain.then(async () => {
      const next = f(this.current);
      await writeFileAtomic(this.path, sealKeystore(next, this.kek));
      this.current = next;
    });
    this.chain = run.catch(() => {});
    return run;
  }
}
export { loadSealedJson, saveSealedJson } from './sealed-json.ts';
