/**
 * Beacon: provisioning (0600 sealed key file, derived id, offline record and
 * gateway command), clock trust, and frames on the virtual air: a real noble
 * scanner (agent radio child) receives the beacon's rotating frames, which
 * verify under the venue key inside the slot window; an older slot is
 * E_REPLAY, a wrong key E_CHECKSUM; iBeacon frames alternate; /status works.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { request } from 'node:http';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { decodeAdvert, decodeVenueFrame, slotOf, verifyVenueFrame } from '@beepkit/protocol/frames';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { checkClock, type ClockProbes } from '../src/clock.ts';
import { deriveVenueId, loadVenueKey, offlineRecord, provisionVenue, venueRegister } from '../src/provision.ts';
import { BeaconDaemon } from '../src/daemon.ts';
import { hostNow } from '@beepkit/protocol/clock';

const here = dirname(fileURLToPath(import.meta.url));
type Ev = { ev: string; [k: string]: any };

function child(script: string, env: Record<string, string>) {
  const clean = { ...process.env };
  delete clean.HCI_CHANNEL_USER;
  delete clean.BLUETOOTH_HCI_SOCKET_UART_PORT;
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const events: Ev[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (e: Ev) => boolean; resolve: (e: Ev) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    let e: Ev;
    try {
      e = JSON.parse(l) as Ev;
    } catch {
      return;
    }
    events.push(e);
    for (const w of [...waiters]) {
      if (!w.pred(e)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  return {
    events,
    send: (c: Record<string, unknown>) => proc.stdin!.write(JSON.stringify(c) + '\n'),
    waitFor: (pred: (e: Ev) => boolean, label: string, ms = 90_000) => {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise<Ev>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timeout: ${label}; last ${JSON.stringify(events.slice(-3))}; stderr ${stderr.slice(-3).join(' | ')}`)),
          ms,
        );
        waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    kill: () => proc.exitCode === null && proc.kill('SIGKILL'),
  };
}

const probes = (o: { ntp?: boolean; flag?: boolean; rtc?: number }): ClockProbes => ({
  ntpSynchronized: async () => o.ntp,
  timesyncFlag: async () => o.flag ?? false,
  rtcSeconds: async () => o.rtc,
});

t.test('clock trust', async (t) => {
  const now = 1_780_000_000;
  t.match(await checkClock({ nowS: now, probes: probes({}) }), { trusted: false, reason: /not synchronised.*--trust-clock/ });
  t.match(await checkClock({ nowS: now, probes: probes({ ntp: true }) }), { trusted: true, source: 'ntp' });
  t.match(await checkClock({ nowS: now, probes: probes({ flag: true }) }), { trusted: true, source: 'timesync' });
  t.match(await checkClock({ nowS: now, probes: probes({ rtc: now + 30 }) }), { trusted: true, source: 'rtc' });
  t.match(await checkClock({ nowS: now, probes: probes({ rtc: now + 3600 }) }), { trusted: false, reason: /RTC differs by 3600 s/ });
  t.match(await checkClock({ nowS: now, trustClock: true, probes: probes({}) }), { trusted: true, source: 'override' });
  const before = await checkClock({ nowS: 1_000_000_000, trustClock: true, probes: probes({ ntp: true }) });
  t.match(before, { trusted: false, reason: /before the build date/ }, 'a clock before the build date is never trusted');
  // the daemon refuses, says why, and never touches the radio
  let started = false;
  const radio = { start: async () => void (started = true), on() {}, off() {} } as never;
  const d = new BeaconDaemon({
    radio,
    venue: { key: new Uint8Array(32), venueId: new Uint8Array(6) },
    txPower: -59,
    now: () => now * 1000,
    probes: probes({ ntp: false }),
  });
  await t.rejects(d.start(), { code: 'E_CLOCK', message: /refusing to advertise: the clock is not synchronised/ });
  t.equal(started, false);
});

t.test('provision: sealed 0600 key file, derived id, offline record', async (t) => {
  const dir = t.testdir();
  const kek = join(dir, 'kek');
  await writeFile(kek, Buffer.alloc(32, 7));
  await chmod(kek, 0o600);
  const path = join(dir, 'venue.key');
  const v = await provisionVenue(path, { keyFile: kek });
  t.equal((await stat(path)).mode & 0o777, 0o600);
  const raw = await readFile(path);
  t.notOk(raw.includes(Buffer.from(v.key)), 'the key is not stored in clear');
  t.same(toHex(v.venueId), toHex(deriveVenueId(v.key)));
  t.same(await loadVenueKey(path, { keyFile: kek }), v);
  await t.rejects(provisionVenue(path, { keyFile: kek }), { code: 'E_EXISTS' });
  const pp = join(dir, 'pass.key');
  const w = await provisionVenue(pp, { passphrase: 'correct horse', scrypt: { logN: 10, r: 8, p: 1 } });
  await t.rejects(loadVenueKey(pp, { passphrase: 'wrong', scrypt: { logN: 10, r: 8, p: 1 } }), { code: 'E_DECRYPT' });
  t.same((await loadVenueKey(pp, { passphrase: 'correct horse' })).key, w.key);
  const info = { name: "Joe's Café", region: ['CA', 'Alameda', 'Oakland'], lat: 37.8044, lon: -122.2712, radiusM: 40 };
  const rec = offlineRecord(v, info, '/tmp/venue.hex');
  t.same(rec.venue, { id: toHex(v.venueId), name: "Joe's Café", region: ['CA', 'Alameda', 'Oakland'], latE6: 37804400, lonE6: -122271200, radiusM: 40 });
  t.equal(
    rec.command,
    `beepkit gateway venue add --name 'Joe'\\''s Café' --region CA/Alameda/Oakland --lat 37.8044 --lon -122.2712 --radius 40 --id ${toHex(v.venueId)} --key-file /tmp/venue.hex`,
  );
  t.notOk(JSON.stringify(rec).includes(toHex(v.key)), 'no key in the printed record');
  const reg = venueRegister(v, info);
  t.match(reg, { type: 'venue-register', regionPath: info.region, latE6: 37804400, radiusM: 40, name: info.name });
  t.same(reg.keyMaterial, v.key);
});

t.test('frames on the air verify under the venue key', async (t) => {
  const air = new Air({ seed: 81 });
  const b = new VirtualController({ air, address: '11:22:33:44:81:01', position: { x: 0, y: 0 } });
  const s = new VirtualController({ air, address: '11:22:33:44:81:02', position: { x: 2, y: 0 } });
  b.start();
  s.start();
  const key = new Uint8Array(32).fill(0x42);
  const beacon = child(join(here, 'fixtures', 'beacon-child.ts'), { ADV_PORT: b.path, KEY: toHex(key) });
  const scanner = child(join(here, '..', '..', 'device-core', 'test', 'fixtures', 'radio-child.ts'), { SCAN_PORT: s.path });
  t.teardown(() => {
    beacon.kill();
    scanner.kill();
    b.stop();
    s.stop();
    air.stop();
  });
  const ready = await beacon.waitFor((e) => e.ev === 'ready' || e.ev === 'error', 'beacon ready');
  t.equal(ready.ev, 'ready', JSON.stringify(ready));
  await scanner.waitFor((e) => e.ev === 'ready', 'scanner ready');
  scanner.send({ op: 'scan' });
  // the only advertiser on this air; from a non-resolvable private address that changes with the frame
  const fromBeacon = (e: Ev) => e.ev === 'advert' && e.addressType === 'random';
  const isVenue = (e: Ev) => fromBeacon(e) && decodeAdvert(fromHex(e.data)).kind === 'beepkit-venue';
  const venueAdverts = (): Ev[] => scanner.events.filter(isVenue);
  const first = await scanner.waitFor(isVenue, 'a venue frame');
  const firstSlot = decodeVenueFrame(fromHex(first.data)).slot;
  await scanner.waitFor((e) => isVenue(e) && decodeVenueFrame(fromHex(e.data)).slot > firstSlot, 'a frame of the next slot');
  await scanner.waitFor((e) => fromBeacon(e) && decodeAdvert(fromHex(e.data)).kind === 'ibeacon', 'an iBeacon frame');
  const frames = venueAdverts().map((e) => decodeVenueFrame(fromHex(e.data)));
  const heard = scanner.events.filter(fromBeacon);
  t.ok(
    heard.every((e) => parseInt(e.address.slice(0, 2), 16) >> 6 === 0 && e.address !== b.address),
    'every frame from a non-resolvable private address, never the public one',
  );
  t.ok(
    heard.every((e) => e.connectable === false),
    'ADV_NONCONN_IND',
  );
  const byAddr = new Map<string, Set<string>>();
  for (const e of heard) byAddr.set(e.address, (byAddr.get(e.address) ?? new Set()).add(e.data));
  t.ok(
    [...byAddr.values()].every((d) => d.size === 1),
    'one address carries one frame (address and payload rotate together)',
  );
  t.ok(byAddr.size >= 3, `a fresh address per frame (${byAddr.size} addresses)`);
  t.equal(b.st.advParams.type, 0x03);
  t.ok(b.st.advParams.intervalMin >= 320 && b.st.advParams.intervalMax <= 432, 'interval within 200–270 ms');
  t.same([...new Set(frames.map((f) => toHex(f.venueId)))], [toHex(deriveVenueId(key))], 'the venue id is derived from the key');
  const slots = [...new Set(frames.map((f) => f.slot))];
  t.ok(slots.length >= 2, `the frame rotates each slot (${slots.length} slots seen)`);
  for (const f of frames) {
    t.doesNotThrow(() => verifyVenueFrame(f, key, { nowSlot: f.slot, window: 1 }));
    t.equal(f.txPower, -59);
  }
  const nowSlot = slotOf(hostNow() / 1000, 1);
  t.ok(
    frames.some((f) => Math.abs(f.slot - nowSlot) <= 3),
    'slots follow the system clock',
  );
  const f = frames[0];
  t.throws(() => verifyVenueFrame(f, key, { nowSlot: f.slot + 2, window: 1 }), { code: 'E_REPLAY' }, 'replayed from an older slot');
  t.throws(() => verifyVenueFrame(f, new Uint8Array(32).fill(0x43), { nowSlot: f.slot, window: 1 }), { code: 'E_CHECKSUM' }, 'forged (wrong key)');
  const status = await new Promise<any>((resolve, reject) => {
    request({ host: '127.0.0.1', port: ready.port, path: '/status' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    })
      .on('error', reject)
      .end();
  });
  t.match(status, { advertising: true, clock: { trusted: true, source: 'override' }, venueId: toHex(deriveVenueId(key)) });
  t.ok(status.frames >= 3);
});

t.test('a controller that reset silently is re-advertised within refreshMs', async (t) => {
  const puts: string[] = [];
  let wake: (() => void) | undefined;
  const radio = {
    on() {},
    off() {},
    start: async () => {},
    stop: async () => {},
    stopAdvertising: async () => {},
    advertise: async (f: Uint8Array) => {
      puts.push(toHex(f));
      if (puts.length >= 3) wake?.();
    },
  } as never;
  const now = 1_780_000_000_000; // frozen clock: the slot never changes, only the refresh re-asserts
  const d = new BeaconDaemon({
    radio,
    venue: { key: new Uint8Array(32).fill(1), venueId: new Uint8Array(6).fill(2) },
    txPower: -59,
    now: () => now,
    trustClock: true,
    refreshMs: 20,
  });
  await d.start();
  await new Promise<void>((resolve) => (puts.length >= 3 ? resolve() : (wake = resolve)));
  await d.stop();
  t.equal(new Set(puts).size, 1, 'the same frame of the same slot');
  t.ok(puts.length >= 3, `re-asserted (${puts.length} puts)`);
});
