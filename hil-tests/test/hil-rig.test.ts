import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadScenarioFile } from '@beepkit/firmware-stubs/scenario';
import { Sim, rigDocument } from '@beepkit/firmware-stubs/sim';
import { asRealRig, loadRig, parseRig } from '../src/rig/index.ts';
import { errorOf } from './hil-helpers.ts';

const valid = () => ({
  rig: 'real',
  version: 1,
  name: 'bench',
  devices: [
    {
      id: 'a',
      role: 'agent',
      gnss: { path: '/dev/ttyACM0' },
      radio: { scan: { path: '/dev/ttyACM1' }, advertise: { path: '/dev/ttyACM2', address: 'F0:11:22:33:44:55' } },
    },
  ],
  venues: [
    {
      id: 'v',
      venueId: 'a1b2c3d4e5f6',
      venueKey: '11'.repeat(32),
      center: { lat: 55.9, lon: -3.2 },
      radius: 10,
      beacons: [{ id: 'b', position: { lat: 55.9, lon: -3.2 } }],
    },
  ],
});

const code = errorOf;

t.test('a valid real rig', async (t) => {
  const r = parseRig(valid());
  t.equal(r.kind, 'real');
  t.equal(r.devices[0]!.label, 'a', 'label defaults to the id');
  t.equal(r.devices[0]!.radio.advertise.address, 'f0:11:22:33:44:55', 'addresses lower-cased');
  t.equal(r.venues[0]!.slotSeconds, 60, 'slot length default');
  t.equal(r.fixedPositions, false);
});

t.test('invalid fields are named', async (t) => {
  const cases: [string, (d: ReturnType<typeof valid>) => void, RegExp][] = [
    ['kind', (d) => ((d as Record<string, unknown>).rig = 'lab'), /^E_CONFIG rig rig: must be virtual or real/],
    ['version', (d) => ((d as Record<string, unknown>).version = 2), /rig version: unsupported/],
    ['no devices', (d) => (d.devices = []), /rig devices: at least one/],
    ['device id', (d) => ((d.devices[0] as Record<string, unknown>).id = ''), /rig devices\[0\]\.id: must be a non-empty string/],
    ['scan path', (d) => ((d.devices[0]!.radio.scan as Record<string, unknown>).path = 7), /rig devices\[0\]\.radio\.scan\.path/],
    ['address', (d) => (d.devices[0]!.radio.advertise.address = 'nope'), /rig devices\[0\]\.radio\.advertise\.address: must be a BD_ADDR/],
    ['gnss', (d) => ((d.devices[0] as Record<string, unknown>).gnss = '/dev/x'), /rig devices\[0\]\.gnss: must be/],
    ['duplicate', (d) => d.devices.push({ ...d.devices[0]! }), /rig devices\[1\]\.id: duplicate id a/],
    ['carer', (d) => ((d.devices[0] as Record<string, unknown>).carer = 'zed'), /rig devices\[0\]\.carer: no device zed/],
    ['venue id', (d) => (d.venues[0]!.venueId = 'abc'), /rig venues\[0\]\.venueId: must be 6 bytes of hex/],
    ['venue key', (d) => delete (d.venues[0] as Record<string, unknown>).venueKey, /rig venues\[0\]\.venueKey: required \(or venueKeyFile\)/],
    ['latitude', (d) => (d.venues[0]!.center.lat = 91), /rig venues\[0\]\.center\.lat: must be a number in -90\.\.90/],
    ['beacon', (d) => ((d.venues[0]!.beacons[0] as Record<string, unknown>).position = 3), /rig venues\[0\]\.beacons\[0\]\.position: must be \{lat, lon\}/],
    ['control', (d) => ((d as Record<string, unknown>).control = 'ftp://x'), /rig control: must be an http/],
    ['broker', (d) => ((d as Record<string, unknown>).broker = 'http://x'), /rig broker: must be mqtt/],
  ];
  for (const [name, mutate, re] of cases) {
    const d = valid();
    mutate(d);
    t.match(
      code(() => parseRig(d)),
      re,
      name,
    );
  }
  t.match(
    code(() => parseRig('x')),
    /^E_CONFIG rig file: must be a YAML mapping/,
  );
});

t.test('loadRig: files, key files, YAML errors', async (t) => {
  const dir = t.testdir();
  t.match(
    code(() => loadRig(join(dir, 'missing.yaml'))),
    /^E_CONFIG rig file .*missing\.yaml/,
  );
  writeFileSync(join(dir, 'bad.yaml'), 'rig: [unclosed\n');
  t.match(
    code(() => loadRig(join(dir, 'bad.yaml'))),
    /^E_CONFIG rig file .*not YAML/,
  );
  mkdirSync(join(dir, 'keys'));
  writeFileSync(join(dir, 'keys', 'v.key'), '22'.repeat(32) + '\n');
  const d = valid() as Record<string, unknown> & ReturnType<typeof valid>;
  delete (d.venues[0] as Record<string, unknown>).venueKey;
  (d.venues[0] as Record<string, unknown>).venueKeyFile = './keys/v.key';
  writeFileSync(join(dir, 'rig.yaml'), stringify(d));
  t.equal(loadRig(join(dir, 'rig.yaml')).venues[0]!.venueKey, '22'.repeat(32), 'key file relative to the rig file');
  (d.venues[0] as Record<string, unknown>).venueKeyFile = './keys/none.key';
  writeFileSync(join(dir, 'rig2.yaml'), stringify(d));
  t.match(
    code(() => loadRig(join(dir, 'rig2.yaml'))),
    /^E_CONFIG rig venues\[0\]\.venueKeyFile:/,
  );
});

t.test('the example Pi rig validates (with its key file stubbed)', async (t) => {
  const dir = t.testdir({ keys: { 'bench-venue.key': '33'.repeat(32) } });
  const { readFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'example-pi.yaml'), readFileSync(new URL('../rigs/example-pi.yaml', import.meta.url)));
  const r = loadRig(join(dir, 'example-pi.yaml'));
  t.equal(r.kind, 'real');
  t.equal(r.fixedPositions, true);
  t.same(
    r.devices.map((d) => d.id),
    ['pi-a', 'pi-b'],
  );
  t.equal(r.venues[0]!.beacons.length, 2);
});

t.test("the sim's rig file loads, and reads as a bench of serial paths", async (t) => {
  const dir = t.testdir();
  const sim = new Sim({ scenario: loadScenarioFile(new URL('../../firmware-stubs/scenarios/cafe.yaml', import.meta.url).pathname), dir, controlPort: 0 });
  await sim.start();
  t.teardown(() => sim.stop());
  const doc = rigDocument(sim) as { devices: unknown[] };
  const r = loadRig(join(dir, 'rig.yaml'));
  t.equal(r.kind, 'virtual');
  t.equal(r.devices.length, doc.devices.length);
  t.match(r.control, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.ok(r.clock && r.clock.speed === 30, 'scenario clock');
  t.equal(r.devices.find((d) => d.id === 'grace')?.carer, 'dave');
  t.equal(r.devices.find((d) => d.id === 'grace')?.gnss, null, 'no GNSS on the wearable');
  const real = asRealRig(r);
  t.equal(real.kind, 'real');
  t.equal(real.control, undefined, 'no control API');
  t.same(real.clock, r.clock, 'the hardware clock stays');
});
