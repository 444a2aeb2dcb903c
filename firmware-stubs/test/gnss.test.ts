// GNSS emulator: cold start → 2D → 3D, NMEA 4.11 output, PMTK220/314 with PMTK001 acks, faults, replay.
import t from 'tap';
import { SerialPort } from 'serialport';
import { decodeNmea, NmeaLineDecoder, encodeSentence, checksumOk, type NmeaFix } from '@beepkit/protocol/nmea';
import { GnssEmulator, type GnssClock } from '@beepkit/firmware-stubs/gnss';

/** A manual clock: nothing here depends on wall-clock time. */
function manualClock(start: number): GnssClock & { advance(ms: number): void; pending(): number } {
  let now = start;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 0;
  return {
    pending: () => timers.length,
    now: () => now,
    setTimeout(fn, ms) {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(h) {
      const i = timers.findIndex((x) => x.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const tm = timers[0];
        if (!tm || tm.at > end) break;
        timers.shift();
        now = tm.at;
        tm.fn();
      }
      now = end;
    },
  };
}

function decodeAll(text: string, date = '2024-01-01'): NmeaFix[] {
  const d = new NmeaLineDecoder({ date });
  return [...text.split('\n').flatMap((l) => d.line(l).fixes), ...d.flush()];
}

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

t.test('cold start → 2D → 3D, valid NMEA 4.11 with checksums and CRLF, trajectory with noise', async (t) => {
  const clock = manualClock(T0);
  const emu = new GnssEmulator({
    clock,
    startTime: T0,
    seed: 7,
    coldStart: { noFix: 3, twoD: 2 },
    trajectory: [
      { t: 0, lat: 52, lon: 5, alt: 10 },
      { t: 60_000, lat: 52.001, lon: 5, alt: 10 },
    ],
  });
  emu.start();
  t.teardown(() => emu.stop());
  let text = '';
  emu.on('epoch', (e: { written: string }) => (text += e.written));
  clock.advance(10_000); // ten 1 Hz epochs on the manual clock
  t.equal(emu.epochs, 10);
  const lines = text.split('\r\n').filter((l) => l);
  t.ok(text.endsWith('\r\n'), 'CRLF line endings');
  t.ok(
    lines.every((l) => checksumOk(l)),
    'every sentence has a correct checksum',
  );
  const kinds = new Set(lines.map((l) => decodeNmea(l).talker + decodeNmea(l).type));
  for (const k of ['GNGGA', 'GNRMC', 'GNGSA', 'GPGSV', 'GLGSV', 'GAGSV', 'GBGSV', 'GNVTG', 'GNGLL', 'GNZDA']) t.ok(kinds.has(k), `emits ${k}`);
  const fixes = decodeAll(text);
  t.same(
    fixes.map((f) => f.mode),
    [1, 1, 1, 2, 2, 3, 3, 3, 3, 3],
    'mode progression',
  );
  t.same(
    fixes.map((f) => f.time),
    Array.from({ length: 10 }, (_, i) => new Date(T0 + i * 1000).toISOString()),
  );
  const last = fixes[9]!;
  t.ok(Math.abs(last.lat! - 52.00015) < 0.0002 && last.lat !== 52.00015, `noisy position near the trajectory (${last.lat})`);
  t.ok(last.speed! > 1.5 && last.speed! < 2.2, `speed from the trajectory ≈ 1.86 m/s (${last.speed})`);
  t.ok(last.satellitesUsed! >= 9 && last.hdop! < 2, 'satellites and DOPs');
  const gsv = lines.map((l) => decodeNmea(l)).find((s) => s.kind === 'GSV' && s.satellites.length > 0);
  t.ok(gsv && gsv.kind === 'GSV' && gsv.satellites[0]!.az !== undefined && gsv.satellites[0]!.el !== undefined, 'GSV has az/el');
  // same seed → same bytes
  const clock2 = manualClock(T0);
  const emu2 = new GnssEmulator({
    clock: clock2,
    startTime: T0,
    seed: 7,
    coldStart: { noFix: 3, twoD: 2 },
    trajectory: [
      { t: 0, lat: 52, lon: 5, alt: 10 },
      { t: 60_000, lat: 52.001, lon: 5, alt: 10 },
    ],
  });
  emu2.start();
  let text2 = '';
  emu2.on('epoch', (e: { written: string }) => (text2 += e.written));
  clock2.advance(10_000);
  emu2.stop();
  t.equal(text2, text, 'seeded: deterministic output');
});

t.test('PMTK220 and PMTK314 change rate and sentences, acknowledged with PMTK001', async (t) => {
  const emu = new GnssEmulator({ autoRun: false, startTime: T0, coldStart: { noFix: 0, twoD: 0 } });
  emu.start();
  const port = new SerialPort({ path: emu.path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  t.teardown(async () => {
    await new Promise<void>((r) => port.close(() => r()));
    emu.stop();
  });
  let rx = '';
  port.on('data', (d: Buffer) => (rx += d.toString('latin1')));
  const acked = (cmd: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (rx.includes(`$PMTK001,${cmd},3*`)) {
          port.off('data', check);
          resolve();
        }
      };
      port.on('data', check);
      check();
    });
  const commands: number[] = [];
  emu.on('command', (c: { cmd: number }) => commands.push(c.cmd));
  port.write('$PMTK999,1*00\r\n'); // bad checksum and unknown: ignored
  port.write(encodeSentence('PMTK', '605', [])); // unknown command: ignored, like a real receiver
  port.write(encodeSentence('PMTK', '220', [200]));
  await acked(220);
  t.equal(emu.intervalMs, 200, '5 Hz');
  port.write(encodeSentence('PMTK', '314', [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // RMC + GGA only
  await acked(314);
  t.same(commands, [220, 314], 'unknown and corrupted commands ignored');
  t.match(rx, /\$PMTK001,220,3\*[0-9A-F]{2}\r\n/);
  const out = emu.step() + emu.step() + emu.step();
  const types = new Set(
    out
      .split('\r\n')
      .filter((l) => l)
      .map((l) => decodeNmea(l).type),
  );
  t.same([...types].sort(), ['GGA', 'RMC'], 'only the selected sentences');
  const fixes = decodeAll(out);
  t.same(
    fixes.map((f) => f.timeMs! - T0),
    [0, 200, 400],
    'epochs 200 ms apart',
  );
});

t.test('faults change the output', async (t) => {
  const emu = new GnssEmulator({ autoRun: false, startTime: T0, coldStart: { noFix: 0, twoD: 0 }, seed: 3 });
  emu.start();
  t.teardown(() => emu.stop());
  const base = decodeAll(emu.step())[0]!;
  t.equal(base.mode, 3);
  emu.inject({ kind: 'outage', epochs: 1 });
  t.equal(decodeAll(emu.step())[0]!.mode, 1, 'outage: no fix, still talking');
  emu.inject({ kind: 'silence', epochs: 1 });
  t.equal(emu.step(), '', 'silence: nothing written');
  emu.inject({ kind: 'bad-checksum', count: 2 });
  const bad = emu
    .step()
    .split('\r\n')
    .filter((l) => l);
  t.same(bad.map((l) => checksumOk(l)).slice(0, 3), [false, false, true], 'bad checksums on the next 2 sentences');
  emu.inject({ kind: 'garbage', bytes: 16 });
  emu.inject({ kind: 'truncate', count: 1 });
  emu.inject({ kind: 'run-together', count: 1 });
  const d = new NmeaLineDecoder({ date: '2024-01-01' });
  const res = emu
    .step()
    .split('\n')
    .map((l) => d.line(l));
  const codes = res.flatMap((r) => r.rejects.map((x) => x.code));
  t.ok(codes.includes('E_TRUNCATED') && codes.length >= 3, `rejects ${codes.join(' ')}`);
  t.ok(res.flatMap((r) => r.sentences).length > 10, 'good lines still decode');
  emu.inject({ kind: 'time-jump', ms: 3_600_000 });
  emu.inject({ kind: 'position-jump', north: 10_000, east: 0, epochs: 1 });
  const jumped = decodeAll(emu.step())[0]!;
  t.equal(jumped.timeMs! - T0, 5000 + 3_600_000, 'time jump');
  t.ok(jumped.lat! - base.lat! > 0.08, 'position jump of 10 km north');
  const p = emu.path;
  emu.inject({ kind: 'unplug', epochs: 2 });
  t.notOk(emu.plugged, 'unplugged');
  emu.step();
  emu.step();
  t.ok(emu.plugged, 'replugged after 2 epochs');
  t.equal(emu.path, p, 'same path');
});

t.test('scheduled faults and replay pacing on the injected clock', async (t) => {
  const clock = manualClock(T0);
  const emu = new GnssEmulator({
    clock,
    autoRun: false,
    startTime: T0,
    coldStart: { noFix: 0, twoD: 0 },
    faults: [{ atEpoch: 1, fault: { kind: 'outage', epochs: 1 } }],
  });
  emu.start();
  t.teardown(() => emu.stop());
  const modes = [emu.step(), emu.step(), emu.step()].map((x) => decodeAll(x)[0]!.mode);
  t.same(modes, [3, 1, 3], 'outage scheduled at epoch 1');
  const log =
    '# Date: 2020-01-01\n# comment\n$GPGSV,1,1,00*79\r\n' +
    encodeSentence('GP', 'ZDA', ['000001.00', '01', '01', '2020', '', '']) +
    encodeSentence('GP', 'ZDA', ['000003.00', '01', '01', '2020', '', '']);
  let done = false;
  const p = emu.replay(log, { speed: 2, comments: 'all' }).then((r) => {
    done = true;
    return r;
  });
  while (clock.pending() === 0) await new Promise((r) => setTimeout(r, 5)); // the writer reaches the gap
  t.notOk(done, 'paced replay waits for the 2 s gap (1 s at speed 2)');
  clock.advance(999);
  await new Promise((r) => setImmediate(r));
  t.notOk(done, 'still waiting at 999 ms');
  clock.advance(1);
  t.same(await p, { lines: 5 }, 'all lines (comments passed) written after 1 s of clock');
});
