#!/usr/bin/env node
// beepkit CLI entry. Runs the precompiled bundle (dist/, built by
// scripts/build.mjs on `npm ci` / `npm run build`) when it is there and newer
// than every source; else loads the TypeScript sources through tsx (no build
// step needed), exactly as without a build.
//   BEEPKIT_FROM_SOURCE=1  always run the sources through tsx
//   BEEPKIT_DIST=<dir>     use the bundle in <dir> instead of dist/ (tests)
//   BEEPKIT_START_TRACE=1  say on stderr which one runs and why
//   BEEPKIT_V8_FLAGS=<flags>  V8 flags set before any of beepkit's code loads, from the few that V8 reads
//                          at run time and Node refuses in NODE_OPTIONS (V8_RUNTIME_FLAGS; a device agent
//                          gets --no-opt --liftoff-only: agent/src/app/node-options.ts)
// Installed from the packed tarball (`npm pack`, see README "Install"), there are no
// sources beside it (bin/cli.ts is not packed): it runs dist/ and never needs tsx.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The first file under dir (recursively) modified after `since` (ms), or undefined. */
function newerUnder(dir, since) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const f = newerUnder(p, since);
      if (f) return f;
    } else if (statSync(p).mtimeMs > since) return p;
  }
  return undefined;
}

/** The bundle's entry when it is usable, else why not (stat-based: a few hundred stats). */
function prebuilt() {
  const dist = process.env.BEEPKIT_DIST || join(ROOT, 'dist');
  // an installed package (npm pack: no sources, no tsx): the bundle is all there is
  if (!existsSync(join(ROOT, 'bin', 'cli.ts'))) return { entry: pathToFileURL(join(dist, 'cli.js')).href, why: `installed bundle ${dist}` };
  if (process.env.BEEPKIT_FROM_SOURCE === '1') return { why: 'BEEPKIT_FROM_SOURCE=1' };
  let built;
  try {
    built = statSync(join(dist, '.built')).mtimeMs;
  } catch {
    return { why: `no build in ${dist}` };
  }
  const files = [join(ROOT, 'bin', 'cli.ts'), join(ROOT, 'package.json'), join(ROOT, 'scripts', 'build.mjs')];
  let workspaces = [];
  try {
    workspaces = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces ?? [];
  } catch {
    return { why: 'unreadable package.json' };
  }
  for (const ws of workspaces) files.push(join(ROOT, ws, 'package.json'));
  for (const f of files) {
    try {
      if (statSync(f).mtimeMs > built) return { why: `stale: ${f} is newer than the build` };
    } catch {
      // an absent file is no newer
    }
  }
  for (const ws of workspaces) {
    const f = newerUnder(join(ROOT, ws, 'src'), built);
    if (f) return { why: `stale: ${f} is newer than the build` };
  }
  return { entry: pathToFileURL(join(dist, 'cli.js')).href, why: `built ${dist}` };
}

/**
 * V8 flags that take effect when set from inside the process (they are read at each decision, not at
 * start as heap sizes are), which Node does not accept in NODE_OPTIONS. --no-opt: no TurboFan tier
 * (its compiler zones and code pages are ~8 MB of an idle agent's RSS; agent/README "Memory").
 * --liftoff-only: WebAssembly stays on its baseline compiler (Node's own cjs-module-lexer is wasm; its
 * TurboFan tier-up while the agent's CommonJS dependencies load took ~28 MB of compiler zone for a moment
 * and left ~9 MB behind; agent/README "Memory").
 */
const V8_RUNTIME_FLAGS = new Set(['--no-opt', '--no-sparkplug', '--optimize-for-size', '--liftoff-only']);
for (const f of (process.env.BEEPKIT_V8_FLAGS ?? '').split(/\s+/).filter(Boolean)) {
  if (V8_RUNTIME_FLAGS.has(f)) setFlagsFromString(f);
  else process.stderr.write(`beepkit: BEEPKIT_V8_FLAGS: ${f} ignored (only ${[...V8_RUNTIME_FLAGS].join(', ')})\n`);
}

const cpuMs = (u) => (u.user + u.system) / 1000;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const pick = prebuilt();
if (process.env.BEEPKIT_START_TRACE === '1') {
  process.stderr.write(`beepkit: ${pick.entry ? 'precompiled' : 'tsx'} (${pick.why}; checked in ${(performance.now() - t0).toFixed(1)} ms, ${(cpuMs(process.cpuUsage(cpu0))).toFixed(1)} ms CPU)\n`);
}
let main;
if (pick.entry) {
  process.setSourceMapsEnabled(true); // stack traces name the .ts sources
  ({ main } = await import(pick.entry));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./cli.ts'));
}
process.exitCode = await main(process.argv);
