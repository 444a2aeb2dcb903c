/**
 * The platform a kit runs on, said out loud (issue 26 item 3): the Node version, the CPU architecture and
 * each native module a device needs with the binary it loaded (a prebuild for this platform, or one
 * compiled on the machine). A module whose binary does not load is reported with its fallback, so an
 * architecture-specific failure names itself at start (`beepkit agent run`'s log) and in `beepkit doctor`
 * instead of surfacing later as a radio or GNSS that never opens.
 *
 * Resolution follows the packages' own dependency chain, as the agent loads them at run time:
 * serialport → @serialport/bindings-cpp (the GNSS serial port); @stoprocent/noble →
 * @stoprocent/bluetooth-hci-socket (the kernel's HCI) → its own serialport's @serialport/bindings-cpp
 * (HCI over a UART) and `usb` (HCI over USB). Every one loads through node-gyp-build, which picks
 * `prebuilds/<platform>-<arch>/…` or `build/Release/…`; the same call here loads the binary for real
 * (dlopen), so a wrong libc or CPU is caught, not only a missing file.
 */
import { createRequire } from 'node:module';
import { dirname, relative, sep } from 'node:path';

export interface NativeModuleReport {
  /** Package name, and the chain it was resolved through ("serialport > @serialport/bindings-cpp"). */
  module: string;
  via: string;
  version?: string;
  /** What it is needed for. */
  role: string;
  /** `prebuild`: a prebuilt binary shipped in the package; `compiled`: built on this machine; `missing`: none loaded. */
  source: 'prebuild' | 'compiled' | 'missing';
  /** The binary loaded, relative to the package (prebuilds/linux-arm64/…node). */
  binary?: string;
  /** With `missing`: why, and what the kit does and what to do instead. */
  error?: string;
  code?: string;
  fallback?: string;
}

export interface PlatformReport {
  node: string;
  platform: string;
  arch: string;
  /** `process.config.variables.arm_version` on 32-bit ARM (7 for armv7). */
  armVersion?: string;
  native: NativeModuleReport[];
}

interface Spec {
  chain: string[];
  role: string;
  fallback: string;
}

const BUILD = 'apt-get install build-essential python3 libudev-dev, then `npm rebuild';

/** The native modules a device loads, by dependency chain from the agent. */
export const NATIVE_MODULES: readonly Spec[] = [
  {
    chain: ['serialport', '@serialport/bindings-cpp'],
    role: 'GNSS receiver on a serial port (gnss.type: serial)',
    fallback: `gnss.type: gpsd (gpsd owns the receiver), or build it: ${BUILD} @serialport/bindings-cpp\``,
  },
  {
    chain: ['@stoprocent/noble', '@stoprocent/bluetooth-hci-socket'],
    role: 'BLE controllers through the kernel (radio.*.hciIndex)',
    fallback: `a UART controller (radio.*: { uart: /dev/ttyACM0 }) still works; or build it: ${BUILD} @stoprocent/bluetooth-hci-socket\``,
  },
  {
    chain: ['@stoprocent/noble', '@stoprocent/bluetooth-hci-socket', 'serialport', '@serialport/bindings-cpp'],
    role: 'BLE controllers on a UART (radio.*.uart)',
    fallback: `a controller through the kernel (radio.*: { hciIndex: 0 }) still works; or build it: ${BUILD} @serialport/bindings-cpp\` in node_modules/@stoprocent/bluetooth-hci-socket`,
  },
  {
    chain: ['@stoprocent/noble', '@stoprocent/bluetooth-hci-socket', 'usb'],
    role: "BLE dongles driven over USB by the host (not used by the agent's UART or HCI-index radios)",
    fallback: 'none needed for UART or HCI-index radios; to build it: apt-get install build-essential python3 libudev-dev, then `npm rebuild usb`',
  },
];

type Req = NodeJS.Require;

function pkgDir(from: Req, name: string): { dir: string; version?: string } {
  const pj = from.resolve(`${name}/package.json`);
  const v = (from(pj) as { version?: string }).version;
  return { dir: dirname(pj), ...(v ? { version: v } : {}) };
}

/** One module along its chain: loaded through node-gyp-build exactly as the package does. */
export function probeNative(spec: Spec, base: string = import.meta.url): NativeModuleReport {
  const module = spec.chain[spec.chain.length - 1];
  const via = spec.chain.join(' > ');
  let req = createRequire(base);
  let found: { dir: string; version?: string } | undefined;
  try {
    for (const name of spec.chain) {
      found = pkgDir(req, name);
      req = createRequire(`${found.dir}${sep}package.json`);
    }
  } catch (e) {
    return {
      module,
      via,
      role: spec.role,
      source: 'missing',
      code: 'E_NATIVE_MISSING',
      error: `${via}: package not installed (${(e as Error).message.split('\n')[0]})`,
      fallback: spec.fallback,
    };
  }
  const { dir, version } = found!;
  try {
    const gyp = req('node-gyp-build') as ((d: string) => unknown) & { path(d: string): string };
    const file = gyp.path(dir);
    gyp(dir); // dlopen: a binary of another CPU or libc fails here
    const binary = relative(dir, file);
    return { module, via, ...(version ? { version } : {}), role: spec.role, source: binary.startsWith(`prebuilds${sep}`) ? 'prebuild' : 'compiled', binary };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return {
      module,
      via,
      ...(version ? { version } : {}),
      role: spec.role,
      source: 'missing',
      code: 'E_PREBUILD',
      error: `${module}${version ? `@${version}` : ''}: no binary loads for ${process.platform}-${process.arch} (${msg})`,
      fallback: spec.fallback,
    };
  }
}

/** Node, CPU and every native module with the binary it loaded. */
export function platformReport(specs: readonly Spec[] = NATIVE_MODULES): PlatformReport {
  const arm = (process.config.variables as Record<string, unknown>).arm_version;
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    ...(process.arch === 'arm' && arm !== undefined ? { armVersion: String(arm) } : {}),
    native: specs.map((s) => probeNative(s)),
  };
}

interface LogLike {
  info(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

/** Logs the platform once (info), then one error per native module that did not load, naming it and its fallback. */
export function logPlatform(log: LogLike, service: string, r: PlatformReport = platformReport()): PlatformReport {
  log.info(
    {
      node: r.node,
      platform: r.platform,
      arch: r.arch,
      ...(r.armVersion ? { armVersion: r.armVersion } : {}),
      native: r.native.map((m) => `${m.via}${m.version ? `@${m.version}` : ''}: ${m.source === 'missing' ? 'MISSING' : `${m.source} ${m.binary}`}`),
    },
    `${service}: platform`,
  );
  for (const m of r.native)
    if (m.source === 'missing')
      log.error(
        { code: m.code, module: m.module, via: m.via, err: m.error, fallback: m.fallback },
        `${service}: native module ${m.module} did not load; fallback: ${m.fallback}`,
      );
  return r;
}
