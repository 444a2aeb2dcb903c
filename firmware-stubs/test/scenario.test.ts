import t from 'tap';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile, parseScenario, positionAt, motionAt, toEnu, toLatLon, distance, simulatedVenueKey, mulberry32 } from '../src/scenario/index.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

t.test('every shipped scenario validates', async (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  t.ok(files.length >= 3, 'at least the café, crowd and spoofing scenarios');
  for (const f of files) {
    const s = loadScenarioFile(join(dir, f));
    t.equal(`${s.name}.yaml`, f, `${f} is named after its file`);
    for (const d of s.devices) t.ok(d.path.length >= 1, `${f}: ${d.id} has a path`);
  }
});

t.test('café: who is where', async (t) => {
  const s = loadScenarioFile(join(dir, 'cafe.yaml'));
  const byId = new Map(s.devices.map((d) => [d.id, d]));
  const cafe = s.venues[0];
  t.equal(cafe.beacons.length, 2);
  t.equal(cafe.region, 'scotland/city-of-edinburgh/edinburgh/beep-cafe');
  const inCafe = (id: string, t0: number) => distance(positionAt(byId.get(id)!.path, t0), cafe.center) <= cafe.radius;
  t.ok(inCafe('alice', 1000) && inCafe('bob', 1000), 'alice and bob share the café');
  t.ok(distance(positionAt(byId.get('alice')!.path, 1000), positionAt(byId.get('bob')!.path, 1000)) <= 1.5, 'at one table');
  t.ok(inCafe('carol', 1150) && !inCafe('carol', 1500), 'carol passes briefly');
  const every = (from: number, to: number, step = 10): number[] => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
  t.notOk(
    every(0, 3600).some((x) => inCafe('dave', x)),
    'dave is never there',
  );
  t.equal(byId.get('grace')!.role, 'wearable');
  t.equal(byId.get('grace')!.carer, 'dave');
  // the carer is next to the wearable at the start (pairing) and from 2100 until after the diagnosis (sync)
  const apart = (x: number) => distance(positionAt(byId.get('dave')!.path, x), positionAt(byId.get('grace')!.path, x));
  t.ok(apart(0) <= 3, 'dave starts next to grace');
  t.ok(
    every(2100, 3000).every((x) => apart(x) <= 3),
    'dave is back with grace from 2100 until the diagnosis',
  );
  t.ok(apart(1000) > 100, 'dave is away in between');
  const home = s.venues.find((v) => v.id === 'harbour-view')!;
  t.ok(
    distance(positionAt(byId.get('dave')!.path, 2500), home.center) <= home.radius,
    "they meet at the Harbour View lounge beacon (the carer's location is trusted there)",
  );
  t.equal(s.diagnoses[0].device, 'alice');
});

t.test('crowd expands deterministically into host-less peers', async (t) => {
  const a = loadScenarioFile(join(dir, 'crowd.yaml'));
  const b = loadScenarioFile(join(dir, 'crowd.yaml'));
  const crowd = a.devices.filter((d) => d.hostless);
  t.equal(crowd.length, 200);
  t.same(
    crowd.map((d) => d.path),
    b.devices.filter((d) => d.hostless).map((d) => d.path),
    'same seed, same walks',
  );
  const outside = crowd.flatMap((d) => d.path).filter((w) => Math.hypot(w.x, w.y) > 40 + 1e-9 || w.t > a.duration);
  t.same(outside, [], 'every waypoint inside the plaza and the scenario');
});

t.test('trajectories interpolate and report speed and course', async (t) => {
  const path = [
    { t: 0, x: 0, y: 0 },
    { t: 10, x: 0, y: 10 },
    { t: 20, x: 10, y: 10 },
  ];
  t.same(positionAt(path, -5), { x: 0, y: 0 });
  t.same(positionAt(path, 5), { x: 0, y: 5 });
  t.same(positionAt(path, 15), { x: 5, y: 10 });
  t.same(positionAt(path, 99), { x: 10, y: 10 });
  t.same(motionAt(path, 5), { speed: 1, course: 0 });
  t.same(motionAt(path, 15), { speed: 1, course: 90 });
  t.same(motionAt(path, 30), { speed: 0, course: 0 });
});

t.test('ENU round-trips at metre scale', async (t) => {
  const origin = { lat: 55.9486, lon: -3.1999 };
  const rng = mulberry32(5);
  let worst = 0;
  for (let i = 0; i < 200; i++) {
    const p = { x: (rng() - 0.5) * 4000, y: (rng() - 0.5) * 4000 };
    const back = toEnu(origin, toLatLon(origin, p));
    worst = Math.max(worst, Math.abs(back.x - p.x), Math.abs(back.y - p.y));
  }
  t.ok(worst < 1e-6, `round trip error ${worst} m`);
  // 1/1000 degree of latitude is about 111 m
  t.ok(Math.abs(toEnu(origin, { lat: 55.9496, lon: -3.1999 }).y - 111.3) < 0.5);
});

t.test('venue keys are per venue and per seed, 32 bytes', async (t) => {
  const k1 = simulatedVenueKey({ name: 'cafe', seed: 7 }, 'beep-cafe');
  t.equal(k1.length, 32);
  t.notSame(k1, simulatedVenueKey({ name: 'cafe', seed: 8 }, 'beep-cafe'));
  t.notSame(k1, simulatedVenueKey({ name: 'cafe', seed: 7 }, 'other'));
});

t.test('broken scenarios give one clear E_CONFIG naming the field', async (t) => {
  const base = 'name: x\norigin: { lat: 1, lon: 2 }\nduration: 100\n';
  const cases: [string, RegExp][] = [
    ['name: x\n: bad: yaml: [', /not valid YAML/],
    [base + 'devices: 3', /devices: must be a list/],
    [base + 'devices:\n  - { id: a, role: robot, path: [{t: 0, x: 0, y: 0}] }', /devices\[0\]\.role: "robot" must be one of/],
    [base + 'devices:\n  - { id: a, role: agent, path: [{t: 5, x: 0, y: 0}, {t: 1, x: 0, y: 0}] }', /devices\[0\]\.path\[1\]\.t: must not go back in time/],
    [base + 'devices:\n  - { id: a, role: agent, path: [{t: 0, at: nowhere}] }', /path\[0\]\.at: unknown venue "nowhere"/],
    [
      base + 'devices:\n  - { id: a, role: agent, path: [{t: 0, x: 0, y: 0}] }\nfaults:\n  - { at: 1, device: b, kind: gnss-outage }',
      /faults\[0\]\.device: unknown device "b"/,
    ],
    [
      base + 'devices:\n  - { id: a, role: agent, path: [{t: 0, x: 0, y: 0}] }\nfaults:\n  - { at: 1, device: a, kind: melt }',
      /faults\[0\]\.kind: "melt" must be one of/,
    ],
    [base + 'devices:\n  - { id: a, role: wearable, carer: z, path: [{t: 0, x: 0, y: 0}] }', /carer: "z" is not an agent/],
    [base + 'devices:\n  - { id: a, role: agent, path: [{t: 0, x: 0, y: 0}] }\n  - { id: a, role: agent, path: [{t: 0, x: 0, y: 0}] }', /duplicate id "a"/],
    ['name: x\norigin: { lat: 100, lon: 2 }\nduration: 100\ndevices: []', /origin\.lat: must be ≤ 90/],
  ];
  for (const [text, re] of cases) t.throws(() => parseScenario(text), { code: 'E_CONFIG', message: re }, String(re));
});
