// Any checkout path (issue 14, item 4): from a working dir, fixture dir and $TMPDIR nested 200+
// characters deep, the PTY link that reaches a REAL gpsd is short (gpsd refuses device paths of 128
// bytes or more) and gpsd reports fixes through it; the sim's links stay short whatever its --dir;
// a link that would not fit is refused with E_PATH before gpsd sees it.
import t from 'tap';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import { Sim } from '@beepkit/firmware-stubs/sim';
import { parseScenario } from '@beepkit/firmware-stubs/scenario';
import { PATH_LIMITS, shortDir } from '@beepkit/firmware-stubs/paths';
import { GpsdGnssSource, type GnssFix } from '@beepkit/device-core/gnss';
import { hostNow } from '@beepkit/protocol/clock';
import { once, startGpsd } from './gnss-helpers.ts';
import { missing } from '../../scripts/tools.ts';

const base = mkdtempSync(path.join(os.tmpdir(), 'beepkit-deep-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
let deep = base;
for (let i = 0; deep.length < 200; i++) deep = path.join(deep, `nested-checkout-level-${i}-${'x'.repeat(24)}`);
mkdirSync(deep, { recursive: true });
const bytes = (p: string): number => Buffer.byteLength(p);

t.test('the deep directory is deeper than every limit', async (t) => {
  t.ok(deep.length >= 200, `${deep.length} characters`);
  t.ok(bytes(path.join(deep, 'gnss0')) > PATH_LIMITS.gpsdDevice, 'a link inside it would be refused by gpsd');
});

t.test('from a deep cwd and $TMPDIR, the emulator link is short and a real gpsd takes it', { skip: missing('gpsd'), timeout: 90_000 }, async (t) => {
  const cwd = process.cwd();
  const tmp = process.env.TMPDIR;
  process.chdir(deep);
  process.env.TMPDIR = deep;
  t.teardown(() => {
    process.chdir(cwd);
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  });
  const emu = new GnssEmulator({ intervalMs: 200, startTime: hostNow(), coldStart: { noFix: 1, twoD: 0 }, seed: 5 });
  emu.start();
  t.teardown(() => emu.stop());
  t.ok(bytes(emu.path) <= PATH_LIMITS.gpsdDevice, `link ${emu.path} is ${bytes(emu.path)} bytes`);
  t.notOk(emu.path.startsWith(deep), 'the link does not live under the deep dir');
  t.ok(realpathSync(emu.path).startsWith('/dev/pts/'), 'the link reaches a PTY');
  const gpsd = await startGpsd(emu.path);
  const src = new GpsdGnssSource({ now: hostNow, port: gpsd.port, backoff: { initialMs: 50, maxMs: 500 }, silenceMs: 60_000 });
  t.teardown(async () => {
    await src.stop();
    await gpsd.stop();
  });
  await src.start();
  const fix = await once<GnssFix>(src, 'fix', (f) => f.usable && f.mode === 3, 60_000);
  t.equal(fix.source, 'gpsd', 'gpsd reports a 3D fix read through the link');
  t.notMatch(gpsd.stderr(), /path length exceeds/, 'gpsd did not refuse the path');
});

t.test('a link that would not fit is E_PATH before any program sees it', async (t) => {
  const emu = new GnssEmulator({ autoRun: false, dir: deep });
  t.throws(() => emu.start(), { code: 'E_PATH', message: /gpsd device path limit/ }, 'the emulator refuses a deep link dir');
  t.equal(emu.plugged, false, 'no PTY was opened');
  const short = shortDir('bk-t-');
  t.teardown(() => rmSync(short, { recursive: true, force: true }));
  const link = path.join(deep, 'gnss0');
  symlinkSync('/dev/null', link);
  await t.rejects(startGpsd(link), { code: 'E_PATH' }, 'startGpsd checks the device path');
  t.throws(() => shortDir('bk-', [deep]), { code: 'E_PATH' }, 'no short dir under a deep base');
  t.ok(bytes(short) + 48 <= PATH_LIMITS.unixSocket, `shortDir leaves room for names: ${short}`);
});

t.test('beepkit sim with a deep --dir: rig.yaml there, GNSS links short', async (t) => {
  const scenario = parseScenario(`
name: deep-walk
seed: 3
origin: { lat: 55.95, lon: -3.19 }
duration: 600
speed: 10
devices:
  - id: a-device-with-a-rather-long-identifier
    role: agent
    gnss: { rateHz: 1, fixAfter: 0, noise: 1 }
    path: [ { t: 0, x: 0, y: 0 }, { t: 600, x: 600, y: 0 } ]
`);
  const sim = new Sim({ scenario, dir: deep });
  await sim.start();
  t.teardown(() => sim.stop());
  t.equal(path.dirname(sim.rigFile!), deep, 'the rig file is written to --dir');
  const gnss = sim.deviceLines().map((l) => l.gnss!);
  t.equal(gnss.length, 1);
  t.ok(
    gnss.every((p) => bytes(p) <= PATH_LIMITS.gpsdDevice && !p.startsWith(deep)),
    `links fit gpsd: ${gnss.join(', ')}`,
  );
  t.ok(realpathSync(gnss[0]).startsWith('/dev/pts/'), 'the link reaches the PTY');
});
