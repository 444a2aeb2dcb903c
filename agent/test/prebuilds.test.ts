/**
 * The native modules a device needs resolve a prebuilt binary for a Raspberry Pi's CPUs, linux-arm64 and
 * linux-arm (armv7, 32-bit Raspberry Pi OS), glibc, for the kit's Node (N-API, or this Node's ABI), so an
 * install with --ignore-scripts (agent/README.md "Raspberry Pi") compiles nothing. Read from the packages'
 * prebuild manifests (the prebuilds/<platform>-<arch>/ file names, matched by node-gyp-build's own tag
 * parser) as installed. The simulator's PTY module (@lydell/node-pty, one optional package per platform)
 * has no linux-arm build: the README must say so and name the fallback. scripts/ci-arm.sh loads these
 * binaries under emulation.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const rootRequire = createRequire(join(ROOT, 'package.json'));

interface Tags {
  file: string;
  runtime?: string;
  napi?: boolean;
  abi?: string;
  uv?: string;
  armv?: string;
  libc?: string;
}
const gyp = rootRequire('node-gyp-build') as { parseTags(file: string): Tags | undefined };

/** A Pi target as node-gyp-build sees it there. */
const TARGETS = [
  { dir: 'linux-arm64', armv: '8', what: 'Raspberry Pi OS 64-bit (Pi 3/4/5, Zero 2 W)' },
  { dir: 'linux-arm', armv: '7', what: 'Raspberry Pi OS 32-bit, armv7 (Pi 2/3/4, Zero 2 W)' },
] as const;

/** The device's native modules: [label, resolver of its package dir]. */
const hciDir = dirname(rootRequire.resolve('@stoprocent/bluetooth-hci-socket/package.json'));
const hciRequire = createRequire(join(hciDir, 'package.json'));
const serialportDir = dirname(rootRequire.resolve('serialport/package.json'));
const DEVICE_MODULES: [string, string][] = [
  [
    "@serialport/bindings-cpp (serialport, the agent's GNSS and UART ports)",
    dirname(createRequire(join(serialportDir, 'package.json')).resolve('@serialport/bindings-cpp/package.json')),
  ],
  ['@stoprocent/bluetooth-hci-socket (raw HCI socket, hciIndex)', hciDir],
  [
    "@serialport/bindings-cpp (the HCI socket's UART driver)",
    dirname(createRequire(hciRequire.resolve('serialport')).resolve('@serialport/bindings-cpp/package.json')),
  ],
  ["usb (the HCI socket's USB driver, optional)", dirname(hciRequire.resolve('usb/package.json'))],
];

/** The prebuild node-gyp-build would load on the target, if any (glibc; N-API or this Node's ABI). */
function prebuildFor(pkgDir: string, target: (typeof TARGETS)[number]): string | undefined {
  let files: string[];
  try {
    files = readdirSync(join(pkgDir, 'prebuilds', target.dir));
  } catch {
    return undefined;
  }
  return files
    .map((f) => gyp.parseTags(f))
    .find(
      (x): x is Tags =>
        !!x &&
        (!x.runtime || x.runtime === 'node' || (x.runtime === 'node' && !!x.napi)) &&
        (!x.abi || x.abi === process.versions.modules || !!x.napi) &&
        (!x.armv || x.armv === target.armv) &&
        (!x.libc || x.libc === 'glibc'),
    )?.file;
}

t.test('each device native module has a prebuilt binary for linux-arm64 and linux-arm (armv7)', async (t) => {
  for (const [name, dir] of DEVICE_MODULES) {
    for (const target of TARGETS) {
      const file = prebuildFor(dir, target);
      t.ok(file, `${name}: ${target.dir} (${target.what})${file ? `: ${file}` : ': missing'}`);
    }
  }
});

t.test('the matcher refuses what node-gyp-build would refuse', async (t) => {
  // a package dir whose manifest has only a musl and an armv6 build for linux-arm: no match
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(join(tmpdir(), 'bk-prebuilds-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, 'prebuilds', 'linux-arm'), { recursive: true });
  writeFileSync(join(d, 'prebuilds', 'linux-arm', 'x.armv7.musl.node'), '');
  writeFileSync(join(d, 'prebuilds', 'linux-arm', 'x.armv6.glibc.node'), '');
  t.equal(prebuildFor(d, TARGETS[1]), undefined, 'musl and armv6 do not serve a glibc armv7 Pi');
  t.equal(prebuildFor(d, TARGETS[0]), undefined, 'no linux-arm64 directory: missing');
  writeFileSync(join(d, 'prebuilds', 'linux-arm', 'x.armv7.glibc.node'), '');
  t.equal(prebuildFor(d, TARGETS[1]), 'x.armv7.glibc.node');
});

t.test('their install scripts only look for the prebuild, and the kit runs none', async (t) => {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  for (const [name, dir] of DEVICE_MODULES) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; scripts?: Record<string, string> };
    const scripts = pkg.scripts ?? {};
    for (const hook of ['preinstall', 'install', 'postinstall'] as const) {
      if (scripts[hook] !== undefined)
        t.equal(scripts[hook], 'node-gyp-build', `${name}: ${hook} is node-gyp-build (it compiles only when no prebuild matches)`);
    }
    t.equal(root.allowScripts?.[pkg.name], false, `${pkg.name}: allowScripts false in the root package.json`);
  }
});

t.test("the simulator's PTY module: linux-arm64 yes, linux-arm documented as missing", async (t) => {
  const pty = JSON.parse(readFileSync(join(dirname(rootRequire.resolve('@lydell/node-pty/package.json')), 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>;
  };
  const platforms = Object.keys(pty.optionalDependencies ?? {});
  t.ok(platforms.includes('@lydell/node-pty-linux-arm64'), '@lydell/node-pty ships linux-arm64');
  if (!platforms.includes('@lydell/node-pty-linux-arm')) {
    const readme = readFileSync(join(ROOT, 'agent', 'README.md'), 'utf8');
    const pi = readme.slice(readme.indexOf('## Raspberry Pi'));
    t.match(pi, /@lydell\/node-pty[^\n]*\n?[^\n]*linux-arm/, 'agent/README.md "Raspberry Pi" says node-pty has no linux-arm build');
    t.match(pi, /beepkit sim[\s\S]{0,400}(32-bit|armv7)|(32-bit|armv7)[\s\S]{0,400}beepkit sim/, 'and that the sim (and the demo) cannot run on a 32-bit Pi');
  }
});
