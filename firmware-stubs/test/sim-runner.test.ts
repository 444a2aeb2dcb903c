/**
 * The scenario runner in-process: the scenario clock, the café's devices,
 * rig file and control API, the fault timeline, and a clean stop.
 * The control API listens on a kernel-chosen port.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { latLonToEnu } from '../src/air/geo.ts';
import { loadScenarioFile, parseScenario } from '../src/scenario/index.ts';
import { ScenarioClock, Sim, defaultStartTime } from '../src/sim/index.ts';
import { until } from './fixtures/child.ts';

let PORT = 0; // the control API's bound port, once the sim started
const api = async (path: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${PORT}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
};
const resources = (kinds: string[]) => process.getActiveResourcesInfo().filter((k) => kinds.includes(k)).length;

t.test('scenario clock: speed, pause and resume on an injected real clock', async (t) => {
  let real = 1000;
  const c = new ScenarioClock({ speed: 30, startTime: Date.UTC(2026, 0, 2, 9), realNow: () => real });
  t.equal(c.elapsedMs(), 0);
  t.ok(c.paused, 'paused until started');
  c.resume();
  real += 2000;
  t.equal(c.elapsedSeconds(), 60, '2 real s at ×30');
  t.equal(c.now(), Date.UTC(2026, 0, 2, 9, 1));
  c.pause();
  real += 5000;
  t.equal(c.elapsedSeconds(), 60, 'frozen while paused');
  t.equal(c.realDelay(1000), Infinity);
  c.resume();
  real += 100;
  t.equal(c.elapsedSeconds(), 63);
  t.equal(defaultStartTime(Date.UTC(2026, 4, 7, 23, 59)), Date.UTC(2026, 4, 7, 9), 'default start: today 09:00Z');
});

t.test('café: devices, paths, rig file, control API, pause/resume, clean stop', async (t) => {
  const dir = t.testdir();
  const baseline = resources(['TTYWrap', 'Timeout', 'TCPServerWrap']);
  const sim = new Sim({ scenario: loadScenarioFile(new URL('../scenarios/cafe.yaml', import.meta.url).pathname), dir, controlPort: 0 });
  await sim.start();
  PORT = sim.controlPort!;
  t.ok(PORT > 0, `the control API reports its kernel-chosen port ${PORT}`);
  const lines = sim.deviceLines();
  t.same(
    lines.map((l) => l.id),
    ['alice', 'bob', 'carol', 'dave', 'grace'],
    'five hosted devices',
  );
  const paths = lines.flatMap((l) => [l.hciScan, l.hciAdvertise, ...(l.gnss ? [l.gnss] : [])]);
  t.equal(paths.length, 14, 'two controllers each, GNSS for the four agents');
  t.ok(
    paths.every((p) => existsSync(p)),
    'every path exists',
  );
  t.equal(lines.find((l) => l.id === 'grace')!.gnss, null, 'the wearable has no GNSS');
  for (const l of lines) t.same(JSON.parse(JSON.stringify(l)), l, `${l.id} line is plain JSON`);

  const rig = parse(readFileSync(join(dir, 'rig.yaml'), 'utf8'));
  t.equal(rig.scenario, 'cafe');
  t.same(rig.roles, { agent: ['alice', 'bob', 'carol', 'dave'], wearable: ['grace'] });
  t.equal(rig.devices[0].gnss.path, lines[0]!.gnss);
  t.equal(rig.devices[0].radio.scan.path, lines[0]!.hciScan);
  t.equal(rig.venues[0].venueKey.length, 64, 'venue key for verifying frames');
  t.equal(rig.control, `http://127.0.0.1:${PORT}`);

  const moved = await api('/devices/bob/move', { x: 3, y: 4 });
  t.same(moved.json, { id: 'bob', x: 3, y: 4 });
  const devs = (await api('/devices')).json as any[];
  const bob = devs.find((d) => d.id === 'bob');
  t.same([bob.x, bob.y, bob.moved], [3, 4, true], 'GET /devices reports the move');
  t.same(sim.air.position('bob/scan'), { x: 3, y: 4, z: 0 }, 'both controllers moved on the air');
  t.same(sim.air.position('bob/adv'), { x: 3, y: 4, z: 0 });
  const ll = bob.position;
  await api('/devices/carol/move', ll);
  const carol = latLonToEnu(sim.scenario.origin, (await api('/devices')).json.find((d: any) => d.id === 'carol').position);
  t.ok(Math.hypot(carol.x - 3, carol.y - 4) < 0.01, 'move by lat/lon');
  t.equal((await api('/devices/nobody/move', { x: 1, y: 1 })).status, 404);
  t.equal((await api('/devices/bob/move', { x: 'a' })).status, 400);
  t.equal((await api('/faults', { device: 'bob', kind: 'meteor' })).status, 400);
  t.equal((await api('/faults', { device: 'grace', kind: 'gnss-silence', duration: 1 })).json.error.code, 'E_CONFIG', 'GNSS fault on a device without GNSS');
  t.ok(
    (await api('/events')).json.some((e: any) => e.kind === 'move' && e.device === 'bob'),
    'moves logged',
  );

  const paused = (await api('/pause', {})).json;
  t.equal(paused.paused, true);
  const epochs = sim.device('alice').gnss!.epochs;
  await new Promise((r) => setTimeout(r, 400));
  t.equal((await api('/clock')).json.elapsed, paused.elapsed, 'clock frozen');
  t.equal(sim.device('alice').gnss!.epochs, epochs, 'no GNSS epochs while paused');
  t.equal((await api('/resume', {})).json.paused, false);
  await until(() => sim.device('alice').gnss!.epochs > epochs, 30_000, 'GNSS epoch after resume');
  t.ok((await api('/clock')).json.elapsed > paused.elapsed, 'clock runs again');

  await sim.stop();
  t.ok(
    paths.every((p) => !existsSync(p)),
    'PTYs and GNSS links gone',
  );
  t.notOk(existsSync(join(dir, 'rig.yaml')), 'rig file removed');
  // destroyed PTY streams close their handles asynchronously
  await until(() => resources(['TTYWrap', 'Timeout', 'TCPServerWrap']) <= baseline, 10_000, 'handles closed').catch(() => {});
  t.ok(
    resources(['TTYWrap', 'Timeout', 'TCPServerWrap']) <= baseline,
    `no PTY streams, timers or servers left (${process.getActiveResourcesInfo().join(',')})`,
  );
});

t.test('the fault timeline applies faults at their scenario time and ends them', async (t) => {
  const sim = new Sim({
    dir: t.testdir(),
    scenario: parseScenario(`
name: timeline
origin: { lat: 55.95, lon: -3.19 }
duration: 100
speed: 20
devices:
  - { id: ann, role: agent, path: [ { t: 0, x: 0, y: 0 } ] }
faults:
  - { at: 2, device: ann, kind: ble-off, duration: 4 }
  - { at: 3, device: ann, kind: hci-reset }
  - { at: 4, device: ann, kind: gnss-time-jump, duration: 2, params: { seconds: 60 } }
`),
  });
  t.teardown(() => sim.stop());
  await sim.start();
  await until(() => sim.events.filter((e) => e.kind === 'end').length === 2, 30_000, 'faults over');
  const ev = sim.events.map((e) => `${e.kind}/${e.source}`);
  t.same(ev, ['ble-off/scenario', 'hci-reset/scenario', 'gnss-time-jump/scenario', 'end/sim', 'end/sim'], 'applied in order, reverts logged');
  t.ok(sim.events[0]!.t >= 2, 'at its scenario time');
  t.equal(sim.device('ann').scan!.counters.resets, 1, 'controller power-cycled');
  t.same(sim.air.position('ann/scan'), { x: 0, y: 0, z: 0 }, 'radio back at the device position after ble-off');
});
