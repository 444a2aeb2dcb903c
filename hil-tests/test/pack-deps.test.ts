/**
 * The packed kit (`npm pack`, README "Install without the toolchain") installs the root package's
 * `dependencies` only: the workspaces are bundled into dist/, their own dependencies are not installed.
 * So the root must list every workspace's runtime dependency, at the same exact version (the lock file
 * then holds one copy). scripts/pack-check.sh installs and runs the tarball.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
type Pkg = { dependencies?: Record<string, string>; workspaces?: string[]; files?: string[]; scripts?: Record<string, string> };
const read = (dir: string): Pkg => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Pkg;
const root = read('.');

t.test('the root lists every workspace runtime dependency at its version, and nothing else', async (t) => {
  const want: Record<string, string> = {};
  for (const ws of root.workspaces ?? []) {
    for (const [name, version] of Object.entries(read(ws).dependencies ?? {})) {
      if (name.startsWith('@beepkit/')) continue;
      if (want[name] !== undefined) t.equal(version, want[name], `${ws}: ${name} at the version the other workspaces use`);
      want[name] = version;
    }
  }
  t.same(root.dependencies, want, "root dependencies = the workspaces' (bundled workspaces excluded)");
});

t.test('npm pack builds the bundle and packs it with the files it reads at run time', async (t) => {
  t.match(root.scripts?.prepack ?? '', /scripts\/build\.mjs/, 'prepack builds dist/');
  for (const f of ['bin/beepkit.js', 'dist/', 'agent/package.json', 'device-core/data/', 'firmware-stubs/scenarios/', 'trial/src/dashboard/static/']) {
    t.ok(root.files?.includes(f), `files has ${f}`);
  }
});
