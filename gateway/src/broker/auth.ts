/**
 * Broker authentication and authorisation, one semantics for both brokers:
 * the embedded aedes broker evaluates it in-process, and the same data is
 * rendered into mosquitto's password_file and acl_file.
 *
 * Passwords: mosquitto 2.0's PBKDF2-SHA512 `$7$iterations$salt$hash` (base64)
 * is the primary format (one password file serves both brokers); the embedded
 * broker also accepts mosquitto 1.x `$6$salt$hash` (salted SHA-512) and
 * `scrypt$N$r$p$salt$hash`.
 *
 * ACL: superusers (the gateway) may read and write everything; every other
 * user only what the `pattern` list allows after substituting `%u` (username)
 * and `%c` (client id), exactly like mosquitto's `pattern` lines. As in
 * mosquitto 2.0 with an acl_file, SUBSCRIBE itself is always granted and the
 * read permission is checked for every message at delivery: a device that
 * subscribes to `down/#` receives only what `down/%u/#` allows. A publish
 * without write permission is acknowledged (MQTT 3.1.1 has no negative
 * PUBACK) and dropped.
 */
import { createHash, pbkdf2Sync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { BeepkitError } from '@beepkit/protocol';
import { DEVICE_ACL_PATTERNS } from '@beepkit/protocol/wire';

export type Access = 'read' | 'write' | 'readwrite';

export interface AclPattern {
  access: Access;
  /** MQTT topic filter; `%u` = username, `%c` = client id. */
  topic: string;
}

export interface AclPolicy {
  /** Users allowed to read and write every topic (the gateway). */
  superusers: readonly string[];
  /** Patterns applied to every other user. */
  patterns: readonly AclPattern[];
}

/**
 * Device rules of the protocol topic map (protocol/src/wire/topics.ts): a
 * device publishes only under `beepkit/v1/dev/<its username>/…` and reads only
 * its own reply (and carer alert) topics.
 */
export const DEFAULT_DEVICE_PATTERNS: readonly AclPattern[] = DEVICE_ACL_PATTERNS;

/** username -> password hash. */
export type Credentials = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

const USERNAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Usernames are substituted into topics: no wildcards, no `/`, no `:`. */
export function isValidUsername(u: string): boolean {
  return USERNAME.test(u);
}

/**
 * The client ids a non-superuser may connect with: its username (what agents
 * use, and all that mosquitto's `use_username_as_clientid` leaves) or
 * `<username>:<suffix>` for further sessions of the same device (`:` never
 * occurs in a username, so no two users' ids can meet, nor reach a gateway id).
 */
export function isOwnClientId(username: string, clientId: string): boolean {
  if (clientId === username) return true;
  return clientId.startsWith(`${username}:`) && USERNAME.test(clientId.slice(username.length + 1));
}

export function credentialEntries(c: Credentials): [string, string][] {
  return c instanceof Map ? [...c.entries()] : Object.entries(c as Record<string, string>);
}

/** mosquitto 2.0 `$7$` PBKDF2-SHA512 hash (what `mosquitto_passwd` writes). */
export function hashPassword(password: string, opts: { iterations?: number; salt?: Uint8Array } = {}): string {
  const iterations = opts.iterations ?? 101;
  const salt = Buffer.from(opts.salt ?? randomBytes(12));
  const dk = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${dk.toString('base64')}`;
}

/** `scrypt$N$r$p$salt$hash` (accepted by the embedded broker only). */
export function hashPasswordScrypt(password: string, opts: { N?: number; salt?: Uint8Array } = {}): string {
  const N = opts.N ?? 16384;
  const r = 8;
  const p = 1;
  const salt = Buffer.from(opts.salt ?? randomBytes(16));
  const dk = scryptSync(password, salt, 32, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${dk.toString('base64')}`;
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time check of `password` against a stored hash; unknown formats are false. */
export function verifyPassword(password: string | Uint8Array, stored: string): boolean {
  const pw = Buffer.from(password);
  const f = stored.split('$');
  try {
    if (f[0] === '' && f[1] === '7' && f.length === 5) {
      const iterations = Number(f[2]);
      if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
      const want = Buffer.from(f[4], 'base64');
      return safeEqual(pbkdf2Sync(pw, Buffer.from(f[3], 'base64'), iterations, want.length || 64, 'sha512'), want);
    }
    if (f[0] === '' && f[1] === '6' && f.length === 4) {
      const digest = createHash('sha512').update(pw).update(Buffer.from(f[2], 'base64')).digest();
      return safeEqual(digest, Buffer.from(f[3], 'base64'));
    }
    if (f[0] === 'scrypt' && f.length === 6) {
      const [N, r, p] = [Number(f[1]), Number(f[2]), Number(f[3])];
      const want = Buffer.from(f[5], 'base64');
      const dk = scryptSync(pw, Buffer.from(f[4], 'base64'), want.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
      return safeEqual(dk, want);
    }
  } catch {
    return false;
  }
  return false;
}

/** MQTT topic matching: does `filter` (may hold + and #) match `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // [MQTT-4.7.2-1] wildcards at the first level do not match $-topics.
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Strips `$share/<group>/` so the ACL applies to the underlying filter. */
export function unshare(filter: string): { group?: string; filter: string } {
  if (!filter.startsWith('$share/')) return { filter };
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { filter };
  return { group: rest.slice(0, slash), filter: rest.slice(slash + 1) };
}

export class AclChecker {
  readonly #superusers: Set<string>;
  readonly #patterns: readonly AclPattern[];

  constructor(policy: AclPolicy) {
    this.#superusers = new Set(policy.superusers);
    this.#patterns = policy.patterns;
  }

  isSuperuser(username: string | undefined): boolean {
    return username !== undefined && this.#superusers.has(username);
  }

  canPublish(username: string | undefined, clientId: string, topic: string): boolean {
    if (username === undefined) return false;
    if (this.isSuperuser(username)) return true;
    return this.#expand(username, clientId, 'write').some((f) => topicMatches(f, topic));
  }

  /** May `username` receive a message published on `topic`? (checked per message, at delivery) */
  canRead(username: string | undefined, clientId: string, topic: string): boolean {
    if (username === undefined) return false;
    if (this.isSuperuser(username)) return true;
    return this.#expand(username, clientId, 'read').some((f) => topicMatches(f, topic));
  }

  #expand(username: string, clientId: string, want: 'read' | 'write'): string[] {
    // Like mosquitto: no substitution of names that would act as wildcards.
    if (!isValidUsername(username) || /[+#/]/.test(clientId)) return [];
    return this.#patterns
      .filter((p) => p.access === want || p.access === 'readwrite')
      .map((p) => p.topic.replaceAll('%u', username).replaceAll('%c', clientId));
  }
}

/** mosquitto acl_file text for `policy`. */
export function renderMosquittoAcl(policy: AclPolicy): string {
  const out = ['# Generated by beepkit gateway/src/broker/auth.ts', ''];
  for (const u of policy.superusers) {
    if (!isValidUsername(u)) throw new BeepkitError('E_CONFIG', `invalid superuser name: ${u}`);
    out.push(`user ${u}`, 'topic readwrite #', '');
  }
  out.push('# Every authenticated user (%u = username, %c = client id):');
  for (const p of policy.patterns) {
    if (/\s/.test(p.topic) || !p.topic) throw new BeepkitError('E_CONFIG', `invalid ACL topic: ${JSON.stringify(p.topic)}`);
    out.push(`pattern ${p.access} ${p.topic}`);
  }
  return out.join('\n') + '\n';
}

/** mosquitto password_file text; hashes must be `$7$` (or `$6$`) for mosquitto. */
export function renderPasswordFile(creds: Credentials): string {
  return credentialEntries(creds)
    .map(([u, h]) => {
      if (!isValidUsername(u)) throw new BeepkitError('E_CONFIG', `invalid username: ${u}`);
      if (!/^\$[67]\$/.test(h)) throw new BeepkitError('E_CONFIG', `password hash of ${u} is not a mosquitto $7$/$6$ hash`);
      return `${u}:${h}\n`;
    })
    .join('');
}
