/**
 * The agent's data directory: device id, keystore secret, the at-rest storage
 * key (for the outbox, encounter log and visit log; the sealed visit log is
 * visits/file.ts) and the sealed record of what was shared with a diagnostician.
 * Everything is restartable from here.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { randomBytes, scryptSync } from 'node:crypto';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { hkdf } from '@beepkit/protocol/crypto';
import { checkPrivateFile, readKeyFile, type KeystoreSecret } from '@beepkit/device-core/keys';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';
import { loadSealedJson, saveSealedJson } from '@beepkit/device-core/keys';
import type { AgentConfig } from '../config/index.ts';
import { emptyShared, mergeShared, type SharedRecord } from '../follow/shared.ts';

export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** The configured device id, or one made once (random) and kept in the data dir. */
export async function deviceIdOf(cfg: AgentConfig): Promise<string> {
  if (cfg.deviceId) return cfg.deviceId;
  if (cfg.broker.username) return cfg.broker.username; // the MQTT username is the topic id (broker ACL %u)
  const path = join(cfg.dataDir, 'device-id');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const id = `kit-${randomBytes(8).toString('hex')}`;
    await writeFileAtomic(path, new TextEncoder().encode(id + '\n'));
    return id;
  }
}

/** The keystore secret from the config (passphrase, passphrase file or key file). */
export async function secretOf(cfg: AgentConfig): Promise<KeystoreSecret & { material: Uint8Array; kind: 'passphrase' | 'key' }> {
  const k = cfg.keystore;
  if (k.keyFile) {
    const key = await readKeyFile(k.keyFile);
    return { keyFile: k.keyFile, material: key, kind: 'key' };
  }
  let passphrase = k.passphrase;
  if (k.passphraseFile) {
    await checkPrivateFile(k.passphraseFile, 'passphrase file');
    passphrase = (await readFile(k.passphraseFile, 'utf8')).replace(/\r?\n$/, '');
  }
  if (!passphrase) throw new BeepkitError('E_CONFIG', 'config keystore: give a passphrase, passphraseFile or keyFile');
  return { passphrase, material: new TextEncoder().encode(passphrase), kind: 'passphrase' };
}

/**
 * The 32-byte at-rest key for the agent's logs: HKDF of the key file, or
 * scrypt of the passphrase with a salt kept in the data dir (so the logs are
 * no cheaper to attack than the keystore).
 */
export async function storageKey(dir: string, secret: { material: Uint8Array; kind: 'passphrase' | 'key' }): Promise<Uint8Array> {
  if (secret.kind === 'key') return hkdf(secret.material, undefined, 'beepkit/v1/agent/storage', 32);
  const saltPath = join(dir, 'storage.salt');
  let salt: Uint8Array;
  try {
    salt = new Uint8Array(await readFile(saltPath));
    if (salt.length !== 16) throw new BeepkitError('E_FORMAT', `${saltPath}: expected 16 bytes`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    salt = new Uint8Array(randomBytes(16));
    await writeFileAtomic(saltPath, salt);
  }
  return new Uint8Array(scryptSync(secret.material, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
}

const SHARED_AAD = new TextEncoder().encode('beepkit/v1/agent/shared');

/** The file (in the data dir) recording what this device shared with diagnosticians. */
export const SHARED_FILE = 'shared.bin';

export async function loadShared(path: string, key: Uint8Array): Promise<SharedRecord> {
  return (await loadSealedJson<SharedRecord>(path, key, SHARED_AAD)) ?? emptyShared();
}

/** Adds `rec` to the durable record (atomic replace); returns the union. */
export async function recordShared(path: string, rec: SharedRecord, key: Uint8Array): Promise<SharedRecord> {
  const all = mergeShared(await loadShared(path, key), rec);
  await saveSealedJson(path, all, key, SHARED_AAD);
  return all;
}
