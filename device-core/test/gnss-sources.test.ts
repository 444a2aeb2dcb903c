// Agent GNSS sources against the emulator on a real PTY: MTK configuration, faults as the source sees
// them (outage, silence, checksum, truncated/run-together/garbage, time and position jumps, unplug/replug),
// the replay source, the factory, and the gpsd source against a REAL gpsd (its port from the kernel).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import { SerialGnssSource, ReplayGnssSource, GpsdGnssSource, createGnssSource, type GnssFix, type GnssStateChange } from '@beepkit/device-core/gnss';
import { encodeSentence } from '@beepkit/protocol/nmea';
import { once, startGpsd, until } from './gnss-helpers.ts';
import { missing } from '../../scripts/tools.ts';
import { hostNow } from '@beepkit/protocol/clock';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

type TapTest = Pick<typeof t, 'testdir' | 'teardown'>;
async function rig(t: TapTest, opts: { silenceMs?: number } = {}) {
  const emu = new GnssEmulator({ autoRun: false, startTime: T0, coldStart: { noFix: 1, twoD: 1 }, seed: 11 });
  emu.start();
  const src = new SerialGnssSource({
    now: hostNow,
    path: emu.path,
    silenceMs: opts.silenceMs ?? 60_000,
    backoff: { initialMs: 20, maxMs: 200 },
    mtk: { intervalMs: 500, sentences: ['RMC', 'GGA', 'GSA'] },
  });
  const fixes: GnssFix[] = [];
  const states: GnssStateChange[] = [];
  src.on('fix', (f) => fixes.push(f));
  src.on('state', (s) => states.push(s));
  t.teardown(async () => {
    await src.stop();
    emu.stop();
  });
  const acked = once<{ cmd: number }>(emu, 'command', (c) => c.cmd === 314);
  const opened = once<GnssStateChange>(src, 'state', (s) => s.state === 'open');
  await src.start();
  await opened;
  await acked;
  /** Runs one epoch and waits for the fix of the epoch before it (an epoch closes when the next begins). */
  const step = async () => {
    const n = fixes.length;
    const got = once<GnssFix>(src, 'fix');
    emu.step();
    await got;
    return fixes[n]!;
  };
  return { emu, src, fixes, states, step };
}

t.test('MTK configuration, cold start, outage, checksum/truncate/run-together/garbage, jumps', async (t) => {
  const { emu, src, step } = await rig(t);
  t.equal(emu.intervalMs, 500, 'PMTK220 sent at start and obeyed');
  emu.step(); // epoch 0 (no fix) opens
  const f0 = await step();
  t.equal(f0.mode, 1);
  t.notOk(f0.usable, 'no fix is never usable');
  t.equal(f0.reason, 'no-fix');
  const f1 = await step();
  t.equal(f1.mode, 2);
  t.ok(f1.usable, '2D fix usable');
  const f2 = await step();
  t.equal(f2.mode, 3);
  t.equal(f2.timeMs! - f1.timeMs!, 500, '2 Hz epochs');
  t.ok(f2.accuracy! > 0 && f2.satellitesUsed! > 0 && f2.hdop! > 0 && f2.pdop! > 0, 'quality model');
  emu.inject({ kind: 'outage', epochs: 1 });
  await step();
  const out = await step();
  t.equal(out.mode, 1, 'outage → mode 1 fix');
  t.notOk(out.usable);
  emu.inject({ kind: 'bad-checksum', count: 1 });
  emu.inject({ kind: 'truncate', count: 1 });
  emu.inject({ kind: 'run-together', count: 1 });
  emu.inject({ kind: 'garbage', bytes: 12 });
  emu.step(); // damaged epoch: its timed sentences are all lost, so it closes no epoch
  await step();
  const after = await step();
  await until(() => (src.counters.E_CHECKSUM ?? 0) >= 1);
  t.equal(src.counters.E_CHECKSUM, 1, 'bad checksum rejected and counted');
  t.ok((src.counters.E_TRUNCATED ?? 0) >= 2, `truncated and run-together counted (${src.counters.E_TRUNCATED})`);
  t.ok((src.counters.E_FORMAT ?? 0) >= 1, 'garbage counted');
  t.equal(after.mode, 3, 'good lines of the damaged epoch still decoded');
  emu.inject({ kind: 'time-jump', ms: 86_400_000 });
  emu.inject({ kind: 'position-jump', north: 50_000, east: 0, epochs: 1 });
  await step();
  const jumped = await step();
  t.ok(jumped.timeMs! - after.timeMs! >= 86_400_000, 'time jump visible');
  t.ok(jumped.lat! - after.lat! > 0.4, 'position jump (spoofing) visible');
  t.ok(src.counters.fixes! >= 8 && src.counters.usable! >= 5, 'counters');
});

t.test('silence → state silent, then open again; unplug/replug → reconnecting → open, fixes resume', async (t) => {
  const { emu, src, fixes, states, step } = await rig(t, { silenceMs: 300 });
  emu.step();
  await step();
  const silent = once<GnssStateChange>(src, 'state', (s) => s.state === 'silent');
  emu.inject({ kind: 'silence', epochs: 1000 });
  await silent;
  t.equal(src.state, 'silent', 'no bytes → silent');
  const resumed = once<GnssStateChange>(src, 'state', (s) => s.state === 'open');
  emu.inject({ kind: 'silence', epochs: -1000 });
  emu.step();
  await resumed;
  t.match(states.at(-1), { state: 'open', reason: 'data resumed' });
  const reconnecting = once<GnssStateChange>(src, 'state', (s) => s.state === 'reconnecting');
  emu.unplug();
  await reconnecting;
  await until(
    () => (src.counters.reconnects ?? 0) >= 2,
    30_000,
    () => 'no reopen attempt while unplugged',
  );
  const reopened = once<GnssStateChange>(src, 'state', (s) => s.state === 'open');
  emu.replug();
  await reopened;
  await once(emu, 'command', (c: { cmd: number }) => c.cmd === 314);
  const n = fixes.length;
  emu.step();
  await step();
  t.ok(fixes.length > n && fixes.at(-1)!.mode === 3, 'fixes resume after replug');
  // a vanished PTY is noticed either by a read error or, while silent, by the device-node probe
  t.match(
    states
      .map((s) => s.state)
      .filter((s, i, a) => s !== a[i - 1])
      .join(' '),
    /^connecting open silent open (silent )?reconnecting (reconnecting )*open$/,
    'state sequence',
  );
});

t.test('replay source and factory', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'x.log');
  writeFileSync(
    file,
    '# Date: 2010-07-07\n' +
      encodeSentence('GP', 'GGA', ['005947.00', '3715.6616', 'N', '12157.6709', 'W', 1, 11, '0.8', '86.0', 'M', '-30.1', 'M', '', '']) +
      encodeSentence('GP', 'GGA', ['005947.00', '3715.6616', 'N', '12157.6709', 'W', 1, 11, '0.8', '86.0', 'M', '-30.1', 'M', '', '']).replace(
        /\*..\r\n/,
        '*00\r\n',
      ) +
      encodeSentence('GP', 'GGA', ['005948.00', '3715.6616', 'N', '12157.6709', 'W', 1, 11, '0.8', '86.0', 'M', '-30.1', 'M', '', '']),
  );
  const src = createGnssSource({ now: hostNow, type: 'replay', file }) as ReplayGnssSource;
  t.type(src, ReplayGnssSource);
  const fixes: GnssFix[] = [];
  src.on('fix', (f) => fixes.push(f));
  await src.start();
  await src.done;
  t.same(
    fixes.map((f) => [f.time, f.mode, f.usable]),
    [
      ['2010-07-07T00:59:47.000Z', 3, true],
      ['2010-07-07T00:59:48.000Z', 3, true],
    ],
  );
  t.equal(src.counters.E_CHECKSUM, 1);
  t.equal(src.state, 'closed');
  t.type(createGnssSource({ now: hostNow, type: 'serial', path: '/dev/null' }), SerialGnssSource);
  t.type(createGnssSource({ now: hostNow, type: 'gpsd', port: 21001 }), GpsdGnssSource);
  t.throws(() => createGnssSource({ type: 'bogus' } as never), { code: 'E_CONFIG' });
});

t.test('gpsd source against a real gpsd fed by the emulator', { skip: missing('gpsd') }, async (t) => {
  const emu = new GnssEmulator({ intervalMs: 200, startTime: hostNow(), coldStart: { noFix: 2, twoD: 0 }, seed: 5 });
  emu.start();
  const gpsd = await startGpsd(emu.path);
  const src = new GpsdGnssSource({ now: hostNow, port: gpsd.port, backoff: { initialMs: 50, maxMs: 500 }, silenceMs: 60_000 });
  t.teardown(async () => {
    await src.stop();
    await gpsd.stop();
    emu.stop();
  });
  const fixes: GnssFix[] = [];
  src.on('fix', (f) => fixes.push(f));
  await src.start();
  const good = await once<GnssFix>(src, 'fix', (f) => f.usable && f.mode === 3, 60_000);
  t.equal(good.source, 'gpsd');
  t.ok(Math.abs(good.lat! - 52.0907) < 0.01 && Math.abs(good.lon! - 5.1214) < 0.01, `position via gpsd ${good.lat},${good.lon}`);
  t.ok(good.accuracy! > 0, 'eph as accuracy');
  t.ok(
    fixes.every((f) => f.mode < 2 || f.lat !== undefined),
    'fixed reports carry a position',
  );
});
