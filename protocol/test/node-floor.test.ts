/**
 * The kit's Node floor (engines ">=20.11.0", the newest Node 20 npm ships for 32-bit ARM):
 * every package declares it, and no source file links to a Node API newer than it. A named
 * ESM import of a missing builtin export fails at link time, before any code runs
 * (`beepkit --help` died so on 20.11 with crypto.hash, added in 20.12), so this scan
 * refuses named imports of builtins added after 20.11.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT as root, sourceFiles } from './source-files.ts';

const FLOOR = '>=20.11.0';
/** builtin → names newer than the floor (Node's changelogs). */
const NEWER: Record<string, string[]> = {
  crypto: ['hash'],
  fs: ['glob', 'globSync'],
  'fs/promises': ['glob'],
  util: ['styleText', 'getCallSite'],
  process: ['getBuiltinModule'],
};

/** `builtin.name` of each named import of an API newer than the floor in `text`. */
export function tooNew(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"](?:node:)?([a-z/]+)['"]/g)) {
    const names = m[1]
      .split(',')
      .map((s) => s.trim().split(/\s+as\s+/)[0])
      .filter(Boolean);
    for (const n of names) if (NEWER[m[2]]?.includes(n)) out.push(`${m[2]}.${n}`);
  }
  return out;
}

t.test('the scan catches a planted import, aliased or not, and not an older API', async (t) => {
  t.same(tooNew("import { hash } from 'node:crypto';"), ['crypto.hash']);
  t.same(tooNew("import { createHash, hash as h } from 'crypto';"), ['crypto.hash']);
  t.same(tooNew("import { globSync } from 'node:fs';"), ['fs.globSync']);
  t.same(tooNew("import { createHash, hkdfSync } from 'node:crypto';\nimport * as crypto from 'node:crypto';"), []);
});

t.test('no source links to a Node API newer than the floor', async (t) => {
  const found: string[] = [];
  let files = 0;
  for (const ws of ['protocol', 'agent', 'beacon', 'wearable', 'gateway', 'firmware-stubs', 'hil-tests', 'trial', 'bench', 'bin', 'scripts']) {
    for (const f of sourceFiles(join(root, ws), new Set(['c']))) {
      if (f.endsWith('node-floor.test.ts')) continue;
      files++;
      for (const api of tooNew(readFileSync(f, 'utf8'))) found.push(`${relative(root, f)}: ${api}`);
    }
  }
  t.ok(files > 200, `scanned ${files} files`);
  t.same(found, [], 'none');
});

t.test(`every package.json declares engines.node ${FLOOR}`, async (t) => {
  for (const ws of ['.', 'protocol', 'agent', 'beacon', 'wearable', 'gateway', 'firmware-stubs', 'hil-tests', 'trial']) {
    const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')) as { engines?: { node?: string } };
    t.equal(pkg.engines?.node, FLOOR, `${ws}/package.json`);
  }
});
