/**
 * Reads power and network state from Linux sysfs/procfs under an overridable
 * root (tests build a fake tree): /sys/class/power_supply/<x>/{type,status,online},
 * the default route's interface from /proc/net/route, and WiFi when
 * /sys/class/net/<if>/wireless (or phy80211) exists. Missing files mean
 * "unknown": no power supply entries at all is treated as mains (a Pi).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceState } from './decide.ts';

async function read(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function readPower(root = '/'): Promise<{ charging: boolean; battery: boolean }> {
  const dir = join(root, 'sys/class/power_supply');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { charging: true, battery: false };
  }
  let battery = false;
  let charging = false;
  for (const n of names.sort()) {
    const type = (await read(join(dir, n, 'type')))?.toLowerCase();
    if (type === 'battery') {
      battery = true;
      const status = (await read(join(dir, n, 'status')))?.toLowerCase();
      if (status === 'charging' || status === 'full') charging = true;
    } else if ((await read(join(dir, n, 'online'))) === '1') {
      charging = true; // mains / USB supply online
    }
  }
  return { charging: charging || !battery, battery };
}

/** Interface of the default route (lowest metric), if any. */
export function defaultRouteInterface(routeTable: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    if (dest !== '00000000' || mask !== '00000000' || !(parseInt(flags, 16) & 1)) continue;
    const m = Number(metric) || 0;
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

export async function readNetwork(root = '/'): Promise<{ online: boolean; wifi: boolean; iface?: string }> {
  const iface = defaultRouteInterface((await read(join(root, 'proc/net/route'))) ?? '');
  if (!iface) return { online: false, wifi: false };
  const net = join(root, 'sys/class/net', iface);
  const wifi = (await exists(join(net, 'wireless'))) || (await exists(join(net, 'phy80211')));
  return { online: true, wifi, iface };
}

export async function readDeviceState(root = '/'): Promise<DeviceState & { battery: boolean; iface?: string }> {
  const [p, n] = await Promise.all([readPower(root), readNetwork(root)]);
  return { ...p, ...n };
}
