/** The repository's source files, for the scans of host-clock and node-floor (test helper). */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.tap', 'results']);

/** Every .ts/.js/.mjs/.cjs file under `dir` (dot folders, builds, results and `skip` aside). */
export function* sourceFiles(dir: string, skip: ReadonlySet<string> = new Set()): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || skip.has(name) || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p, skip);
    else if (/\.(ts|js|mjs|cjs)$/.test(name) && name !== 'eslint.config.js') yield p;
  }
}
