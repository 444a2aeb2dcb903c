import { statSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';

/** Throws E_PERMISSION when `path` is accessible by group or others. */
export function readSecretMode(path: string): void {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) throw new BeepkitError('E_PERMISSION', `${path} is accessible by group or others (chmod 600)`);
}
