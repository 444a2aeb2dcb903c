import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideUpload, readDeviceState, uploadPolicy, defaultRouteInterface } from '../src/policy/index.ts';

interface Tree {
  supplies?: Record<string, Record<string, string>>;
  route?: { iface: string; metric?: number; dest?: string }[];
  wireless?: string[];
  ifaces?: string[];
}

function fakeRoot(dir: string, tree: Tree): string {
  for (const [name, files] of Object.entries(tree.supplies ?? {})) {
    mkdirSync(join(dir, 'sys/class/power_supply', name), { recursive: true });
    for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, 'sys/class/power_supply', name, f), v + '\n');
  }
  mkdirSync(join(dir, 'proc/net'), { recursive: true });
  const lines = ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'];
  for (const r of tree.route ?? []) lines.push(`${r.iface}\t${r.dest ?? '00000000'}\t0102A8C0\t0003\t0\t0\t${r.metric ?? 600}\t00000000\t0\t0\t0`);
  lines.push(`lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0`);
  writeFileSync(join(dir, 'proc/net/route'), lines.join('\n') + '\n');
  for (const i of tree.ifaces ?? []) mkdirSync(join(dir, 'sys/class/net', i), { recursive: true });
  for (const i of tree.wireless ?? []) mkdirSync(join(dir, 'sys/class/net', i, 'wireless'), { recursive: true });
  return dir;
}

const laptop = (status: string, acOnline: string): Tree['supplies'] => ({ AC: { type: 'Mains', online: acOnline }, BAT0: { type: 'Battery', status } });

t.test('fake sysfs: charging / discharging / full / no battery', async (t) => {
  const cases: [string, Tree['supplies'], boolean][] = [
    ['charging', laptop('Charging', '1'), true],
    ['discharging', laptop('Discharging', '0'), false],
    ['full on AC', laptop('Full', '1'), true],
    ['not charging but AC online', laptop('Not charging', '1'), true],
    ['no supplies (a Pi on mains)', {}, true],
    ['USB supply online, no battery info', { usb: { type: 'USB', online: '1' } }, true],
  ];
  for (const [name, supplies, charging] of cases) {
    const root = fakeRoot(t.testdir({}), { supplies, route: [{ iface: 'eth0' }], ifaces: ['eth0'] });
    t.equal((await readDeviceState(root)).charging, charging, name);
  }
});

t.test('fake procfs/sysfs: wifi / ethernet / offline', async (t) => {
  const wifi = await readDeviceState(fakeRoot(t.testdir({}), { route: [{ iface: 'wlan0' }], wireless: ['wlan0'] }));
  t.same([wifi.online, wifi.wifi, wifi.iface], [true, true, 'wlan0']);
  const eth = await readDeviceState(fakeRoot(t.testdir({}), { route: [{ iface: 'eth0' }], ifaces: ['eth0'], wireless: ['wlan0'] }));
  t.same([eth.online, eth.wifi, eth.iface], [true, false, 'eth0']);
  const both = await readDeviceState(
    fakeRoot(t.testdir({}), {
      route: [
        { iface: 'eth0', metric: 700 },
        { iface: 'wlan0', metric: 100 },
      ],
      wireless: ['wlan0'],
      ifaces: ['eth0'],
    }),
  );
  t.equal(both.iface, 'wlan0', 'lowest metric wins');
  const off = await readDeviceState(fakeRoot(t.testdir({}), { route: [{ iface: 'eth0', dest: '0002A8C0' }] }));
  t.same([off.online, off.wifi], [false, false]);
  t.equal(defaultRouteInterface(''), undefined);
  const missing = await readDeviceState(join(t.testdir({}), 'nope'));
  t.same([missing.online, missing.charging], [false, true], 'no procfs at all: offline, treated as powered');
});

t.test('decision table', async (t) => {
  const H = 3_600_000;
  const cw = uploadPolicy('charging-wifi', 6 * H);
  const now = 100 * H;
  const s = (charging: boolean, wifi: boolean, online = true) => ({ charging, wifi, online });
  const cases: [string, ReturnType<typeof uploadPolicy>, ReturnType<typeof s>, number, number | undefined, boolean, string][] = [
    ['immediate uploads on battery', uploadPolicy('immediate'), s(false, false), 3, now, true, 'immediate'],
    ['immediate but offline', uploadPolicy('immediate'), s(true, true, false), 3, now, false, 'offline'],
    ['nothing pending', cw, s(true, true), 0, undefined, false, 'nothing-pending'],
    ['charging on wifi', cw, s(true, true), 1, now, true, 'charging-on-wifi'],
    ['charging on ethernet waits', cw, s(true, false), 1, now - H, false, 'waiting-for-wifi'],
    ['battery on wifi waits', cw, s(false, true), 1, now - H, false, 'waiting-for-charger'],
    ['max delay reached exactly', cw, s(false, false), 1, now - 6 * H, true, 'max-delay'],
    ['just under max delay', cw, s(false, false), 1, now - 6 * H + 1, false, 'waiting-for-charger'],
  ];
  for (const [name, policy, state, pending, oldest, upload, reason] of cases) {
    t.same(decideUpload(policy, state, { now, pending, oldestPendingAt: oldest }), { upload, reason }, name);
  }
  t.throws(() => uploadPolicy('sometimes'), { code: 'E_CONFIG' });
  t.throws(() => uploadPolicy('charging-wifi', 0), { code: 'E_CONFIG' });
});
