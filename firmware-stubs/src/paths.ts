/**
 * Paths handed to other programs must fit those programs' limits, whatever the
 * checkout depth: gpsd refuses a device path of 128 bytes or more ("path length
 * exceeds maximum 128"), a Unix socket path stops at 107 bytes (sun_path is 108
 * with its NUL). Virtual hardware therefore lives in a short runtime directory
 * (`shortDir`, a fresh mkdtemp under the temp dir, or /tmp when $TMPDIR is
 * itself deep), never under the checkout, and `checkPathFits` turns a path that
 * would still not fit into a typed E_PATH error before the other program sees it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';

/** Limits in bytes, without the terminating NUL. */
export const PATH_LIMITS = {
  /** gpsd (GPS_PATH_MAX 128 with the NUL): a device path it is given on the command line or over its control socket. */
  gpsdDevice: 127,
  /** sockaddr_un.sun_path (108 with the NUL) on Linux. */
  unixSocket: 107,
} as const;
export type PathLimit = keyof typeof PATH_LIMITS;

/** Room `shortDir` keeps below the tightest limit for the names put inside it (e.g. `gnss-<device id>`). */
export const SHORT_DIR_ROOM = 48;

const counters = { E_PATH: 0 };
/** How many E_PATH refusals this process raised. */
export function pathCounters(): Readonly<typeof counters> {
  return { ...counters };
}

/** Throws E_PATH unless `path` (its UTF-8 bytes) fits `limit`; returns `path`. */
export function checkPathFits(path: string, limit: PathLimit, what: string): string {
  const bytes = Buffer.byteLength(path);
  const max = PATH_LIMITS[limit];
  if (bytes > max) {
    counters.E_PATH++;
    throw new BeepkitError(
      'E_PATH',
      `${what}: ${path} is ${bytes} bytes, over the ${max}-byte ${limit === 'gpsdDevice' ? 'gpsd device path' : 'Unix socket path'} limit; use a shorter directory (e.g. under /tmp)`,
    );
  }
  return path;
}

/**
 * A fresh directory `<base>/<prefix>XXXXXX` short enough that names of up to
 * SHORT_DIR_ROOM bytes inside it fit every limit in PATH_LIMITS. `base`
 * defaults to os.tmpdir(), then /tmp when that is too deep; E_PATH when none fits.
 */
export function shortDir(prefix = 'bk-', bases: readonly string[] = [tmpdir(), '/tmp']): string {
  const max = Math.min(...Object.values(PATH_LIMITS)) - SHORT_DIR_ROOM;
  for (const base of bases) {
    if (Buffer.byteLength(join(base, `${prefix}XXXXXX`)) <= max) return mkdtempSync(join(base, prefix));
  }
  counters.E_PATH++;
  throw new BeepkitError('E_PATH', `no temp dir short enough for device links and sockets (tried ${bases.join(', ')}; need ≤ ${max} bytes)`);
}
