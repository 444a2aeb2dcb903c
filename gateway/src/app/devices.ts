/**
 * Device credentials for the embedded broker (`beepkit gateway device add|list|revoke`): the password file
 * of `broker.embedded.passwordFile`, one `<username>:<hash>` line per device in mosquitto's `$7$` format
 * (PBKDF2-SHA512), readable by mosquitto too. A device's username is its topic id, `[a-z0-9-]{8,64}`
 * (protocol/SPEC.md, "MQTT"). The running gateway reloads the file when it changes (gateway.ts poll):
 * an added device can log in, a revoked one is disconnected and refused.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';
import { isDeviceId } from '@beepkit/protocol/wire';
import { hashPassword, isValidUsername } from '../broker/auth.ts';
import { writeFileAtomicSync as writeFileAtomic } from '@beepkit/device-core/infra/files';

/** The credentials document `device add --out` writes (0600): what the device's `broker.*` settings need. */
export interface DeviceCredentials {
  type: 'beepkit-device-credentials';
  version: 1;
  /** Topic id = MQTT username = client id (or `<id>:<suffix>`). */
  id: string;
  username: string;
  password: string;
}

/** username → hash of a password file (comments and blank lines skipped); E_FORMAT on a malformed line. */
export function readPasswordFile(path: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(path)) return out;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const at = line.indexOf(':');
      if (at <= 0 || !isValidUsername(line.slice(0, at))) throw new BeepkitError('E_FORMAT', `${path}:${i + 1}: not a <username>:<hash> line`);
      out.set(line.slice(0, at), line.slice(at + 1));
    });
  return out;
}

function write(path: string, m: Map<string, string>): void {
  writeFileAtomic(path, [...m].map(([u, h]) => `${u}:${h}\n`).join(''), 0o600);
}

/** Adds device `id` with a fresh random password (24 bytes, base64url); E_EXISTS if it is there already. */
export function addDevice(path: string, id: string, password = randomBytes(24).toString('base64url')): DeviceCredentials {
  if (!isDeviceId(id)) throw new BeepkitError('E_FORMAT', `device id must match [a-z0-9-]{8,64} (it is the MQTT username and topic id): ${JSON.stringify(id)}`);
  const m = readPasswordFile(path);
  if (m.has(id)) throw new BeepkitError('E_EXISTS', `device ${id} is already in ${path}: revoke it first for new credentials`);
  m.set(id, hashPassword(password));
  write(path, m);
  return { type: 'beepkit-device-credentials', version: 1, id, username: id, password };
}

/** The usernames in the file (never the hashes). */
export function listDevices(path: string): string[] {
  return [...readPasswordFile(path).keys()];
}

/** Removes device `id`; E_NOT_FOUND if absent. */
export function revokeDevice(path: string, id: string): void {
  const m = readPasswordFile(path);
  if (!m.delete(id)) throw new BeepkitError('E_NOT_FOUND', `device ${id} is not in ${path}`);
  write(path, m);
}

/** A change check of a file by mtime and size: true once after each change (false while it is absent). */
export function changeWatcher(path: string): () => boolean {
  const sig = (): string => {
    try {
      const s = statSync(path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return '';
    }
  };
  let last = sig();
  return () => {
    const now = sig();
    if (now === last) return false;
    last = now;
    return now !== '';
  };
}
