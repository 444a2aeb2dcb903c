#!/usr/bin/env node
// Precompiled start for `beepkit`: bundles bin/cli.ts with esbuild into dist/
// (ESM, node20, one chunk per workspace cli plus shared chunks, linked source
// maps). The @beepkit/* workspaces are bundled, and with them the pure-JS
// packages a device agent loads (BUNDLED_PACKAGES); other third-party packages
// stay external (resolved from the repository root at run time, as native
// modules must be). bin/beepkit.js runs dist/cli.js when dist/.built is newer
// than every source, else the sources through tsx.
//
//   node scripts/build.mjs [--outdir <dir>] [--if-possible] [--quiet]
//
// --if-possible (the root "prepare" script): any failure is reported in one
// line and exits 0, so `npm ci` never fails for it (beepkit then runs through tsx).
//
// import.meta.url in a bundled source file is rewritten to that source file's
// URL (relative to the bundle's location), so files read next to the sources
// (scenarios, dashboard assets, worker entry files) and createRequire() keep
// resolving in the source tree.
import { performance } from 'node:perf_hooks';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The file whose mtime says when the bundle's sources were read (bin/beepkit.js compares against it). */
export const STAMP = '.built';

function parseArgs(argv) {
  const o = { outdir: join(ROOT, 'dist'), ifPossible: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--outdir') o.outdir = resolve(argv[++i] ?? '');
    else if (a.startsWith('--outdir=')) o.outdir = resolve(a.slice('--outdir='.length));
    else if (a === '--if-possible') o.ifPossible = true;
    else if (a === '--quiet') o.quiet = true;
    else throw new Error(`unknown argument ${a} (usage: build.mjs [--outdir <dir>] [--if-possible] [--quiet])`);
  }
  return o;
}

/**
 * Third-party packages bundled with the workspaces, with everything they import (but never a package of
 * NEVER_BUNDLED): the pure-JavaScript ones a device agent loads. Bundled, they are tree-shaken and loaded as
 * part of a chunk: no module records, no per-file source strings and source maps, no cjs-module-lexer
 * scan of each CommonJS package an ES module imports. An agent held ~2 MB less (agent/README "Memory").
 * The CommonJS ones call require() for Node's built-ins: each chunk defines `require` (REQUIRE_BANNER).
 */
export const BUNDLED_PACKAGES = ['commander', 'yaml', 'mqtt', 'pino', '@noble/curves', '@noble/hashes', '@noble/ciphers'];
/**
 * Never bundled, wherever imported from: native modules (their binaries are found next to their own
 * files at run time), packages that start workers from files beside them (thread-stream: pino's
 * transports), and optional add-ons that may be absent (ws's).
 */
export const NEVER_BUNDLED = ['@stoprocent/', '@serialport/', 'serialport', '@lydell/', 'usb', 'node-gyp-build', 'thread-stream', 'bufferutil', 'utf-8-validate'];
const REQUIRE_BANNER = "import{createRequire as __beepkitCreateRequire}from'node:module';const require=__beepkitCreateRequire(import.meta.url);";

const isPackage = (spec, names) => names.some((n) => (n.endsWith('/') ? spec.startsWith(n) : spec === n || spec.startsWith(`${n}/`)));

/**
 * Workspace packages and BUNDLED_PACKAGES (with what they import) are bundled; every other bare
 * specifier stays an import, resolved at run time from the bundle's directory: it must find the package
 * the source would (so the outdir lies inside the repository).
 */
function externalPackages(outdir) {
  return {
    name: 'beepkit-externals',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'inner' || args.path.startsWith('@beepkit/') || args.path.startsWith('node:')) return undefined;
        const inBundledPackage = args.importer.split(sep).includes('node_modules');
        if (!isPackage(args.path, NEVER_BUNDLED) && (inBundledPackage || isPackage(args.path, BUNDLED_PACKAGES))) {
          const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
          if (r.errors.length === 0) return undefined;
          // an optional require() that is not installed (a try/catch in the package) stays a require
          if (inBundledPackage) return { path: args.path, external: true };
        }
        const here = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
        const fromOut = await build.resolve(args.path, { kind: args.kind, resolveDir: outdir, pluginData: 'inner' });
        if (here.errors.length === 0 && here.path !== fromOut.path) {
          return { errors: [{ text: `${args.path} resolves to ${here.path} from ${args.importer} but to ${fromOut.path || 'nothing'} from ${outdir} (not hoisted, or an outdir outside the repository)` }] };
        }
        return { path: args.path, external: true };
      });
    },
  };
}

/** import.meta.url in a source file → that source file's URL, computed relative to the chunk's own URL. */
function sourceImportMetaUrl(outdir) {
  return {
    name: 'beepkit-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        let text = await readFile(args.path, 'utf8');
        if (text.includes('import.meta.url')) {
          const rel = relative(outdir, args.path).split(sep).join('/');
          text = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`);
        }
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

/** Empties a previous build (and only a build: a non-empty directory without the stamp is refused). */
function clearOutdir(outdir) {
  if (!existsSync(outdir) || readdirSync(outdir).length === 0) return;
  if (!existsSync(join(outdir, STAMP))) throw new Error(`${outdir} is not empty and holds no beepkit build: not clearing it`);
  rmSync(outdir, { recursive: true, force: true });
}

export async function build({ outdir, quiet = false }) {
  const { build: esbuild } = await import('esbuild');
  const started = performance.now();
  clearOutdir(outdir);
  mkdirSync(outdir, { recursive: true });
  // when the build began to read the sources, as the file system's clock tells it (the stamp is compared
  // with the sources' mtimes, which that clock wrote): a probe file written now, before any source is read
  // (not the stamp itself: a build that fails leaves no stamp, so no half-built bundle is ever run)
  const probe = join(outdir, '.began');
  writeFileSync(probe, '');
  const began = statSync(probe).mtimeMs;
  rmSync(probe);
  const result = await esbuild({
    absWorkingDir: ROOT,
    // the DecryptPool's worker is an entry of its own (gateway/src/solver/pool.ts imports dist/pool-worker.js)
    entryPoints: { cli: join(ROOT, 'bin', 'cli.ts'), 'pool-worker': join(ROOT, 'gateway', 'src', 'solver', 'pool-worker.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    // no comments, no indentation: V8 keeps each loaded chunk's source text for the life of the process,
    // and one non-ASCII character in a kept comment (an arrow, a dash) made the whole chunk a two-byte
    // string (agent/README "Memory"); stack traces still name the .ts sources through the source maps
    minifyWhitespace: true,
    banner: { js: REQUIRE_BANNER },
    // licence texts of the bundled packages in <chunk>.LEGAL.txt beside each chunk, not in its source
    legalComments: 'linked',
    // chunks stay next to cli.js (the default): the import.meta.url rewriting is relative to the outdir
    logLevel: 'silent',
    metafile: true,
    plugins: [externalPackages(outdir), sourceImportMetaUrl(outdir)],
  });
  for (const w of result.warnings) if (!quiet) process.stderr.write(`build: warning: ${w.text}\n`);
  // the stamp's mtime is when the build began to read the sources, so a source saved during the
  // build counts as newer (less 20 ms: the kernel's file-time clock may lag a tick behind ours)
  writeFileSync(join(outdir, STAMP), JSON.stringify({ inputs: Object.keys(result.metafile.inputs).length }) + '\n');
  const readFrom = new Date(began - 20);
  utimesSync(join(outdir, STAMP), readFrom, readFrom);
  writeFileSync(join(outdir, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  if (!quiet) {
    process.stdout.write(`beepkit: built ${relative(process.cwd(), outdir) || '.'} (${Object.keys(result.metafile.inputs).length} inputs, ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1e6).toFixed(1)} MB) in ${Math.round(performance.now() - started)} ms\n`);
  }
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
    await build(o);
  } catch (err) {
    const first = err?.errors?.[0]; // an esbuild failure: its first error says more than "Build failed with N errors"
    const why = first ? `${first.text}${err.errors.length > 1 ? ` (and ${err.errors.length - 1} more)` : ''}` : String(err?.message ?? err).split('\n')[0];
    if (o?.ifPossible) {
      // never fail `npm ci`: without dist/ bin/beepkit.js runs the sources through tsx
      try {
        clearOutdir(o.outdir);
      } catch {
        // not ours to clean
      }
      if (!o.quiet) process.stderr.write(`beepkit: no precompiled build (${why}); beepkit runs through tsx\n`);
    } else {
      process.stderr.write(`build: ${why}\n`);
      process.exitCode = 1;
    }
  }
}
