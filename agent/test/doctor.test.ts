/**
 * `beepkit doctor` on the virtual rig, through the real CLI process: virtual HCI controllers on PTYs
 * (real noble/bleno), the GNSS emulator on a PTY, a real mosquitto with the device's credentials, a
 * local SNTP server. Healthy; a UART that does not exist; a silent controller; unplugged GNSS; the
 * host clock 3 h off (libfaketime on the doctor process: GNSS and NTP stay on the true clock); the
 * broker down; BlueZ-style "RSSI not available" (127) in every advert.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostNow } from '@beepkit/protocol/clock';
import { issueCertificate } from '@beepkit/protocol/cert';
import { ed25519PublicKey } from '@beepkit/protocol/crypto';
import { toHex } from '@beepkit/protocol';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import { openPty } from '@beepkit/firmware-stubs/testing';
import { encodeStored } from '../src/ca-client/index.ts';
import { devicePassword, mosquitto, tempDir } from './net-helpers.ts';
import { byName, doctor } from './fixtures/doctor-child.ts';
import { missing } from '../../scripts/tools.ts';

const DEVICE = 'doctor-kit-01';
const root = tempDir('doctor');
t.teardown(() => root.remove());

// the rig: GNSS emulator, mosquitto, SNTP on the true clock
const gnss = new GnssEmulator({ intervalMs: 200, coldStart: { noFix: 1, twoD: 0 }, seed: 19 });
gnss.start();
t.teardown(() => gnss.stop());
const noBroker = missing('mosquitto');
const broker = noBroker ? undefined : mosquitto(join(root.dir, 'mosq'), 0, [DEVICE]);
await broker?.start();
t.teardown(() => broker?.stop());
const sntp = createSocket('udp4');
sntp.on('message', (req, from) => {
  const r = Buffer.alloc(48);
  r[0] = (4 << 3) | 4;
  r[1] = 2;
  const ts = (at: number): void => {
    const ms = hostNow();
    r.writeUInt32BE(Math.floor(ms / 1000) + 2_208_988_800, at);
    r.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32), at + 4);
  };
  ts(32);
  req.copy(r, 24, 40, 48);
  ts(40);
  sntp.send(r, from.port, from.address);
});
await new Promise<void>((resolve) => sntp.bind(0, '127.0.0.1', resolve));
t.teardown(() => sntp.close());
const NTP = `127.0.0.1:${sntp.address().port}`;

// a CA and today's certificate (true clock)
const caSeed = new Uint8Array(32).fill(7);
const caPub = toHex(ed25519PublicKey(caSeed));

function rig(seed: number, rssi127 = false): { scanner: string; advertiser: string } {
  const air = new Air({ seed });
  if (rssi127) air.setRssiSource(() => 127);
  const a = new VirtualController({ air, address: `0a:00:00:00:${seed.toString(16).padStart(2, '0')}:01`, position: { x: 0, y: 0 } });
  const b = new VirtualController({ air, address: `0a:00:00:00:${seed.toString(16).padStart(2, '0')}:02`, position: { x: 0.5, y: 0 } });
  a.start();
  b.start();
  t.teardown(() => {
    a.stop();
    b.stop();
    air.stop();
  });
  return { scanner: a.path, advertiser: b.path };
}

let n = 0;
function kit(o: { scanner?: string; advertiser?: string; gnssPath?: string; brokerUrl?: string }): string {
  const dir = join(root.dir, `kit${++n}`);
  mkdirSync(join(dir, 'data', 'certs'), { recursive: true, mode: 0o700 });
  const now = hostNow();
  const day = Math.floor(now / 86_400_000);
  // today's and tomorrow's: a run that crosses midnight still finds the certificate of its day
  for (const d of [day, day + 1]) {
    const cert = issueCertificate(caSeed, {
      role: 'device',
      serial: d,
      day: d,
      notBefore: d * 86_400,
      notAfter: (d + 1) * 86_400 + 3600,
      subject: new Uint8Array(32).fill(1),
      solverKeyId: new Uint8Array(8).fill(2),
      region: 'test',
    });
    writeFileSync(
      join(dir, 'data', 'certs', `${d}.cert`),
      encodeStored({ day: d, certificate: cert.bytes, solverPublicKey: new Uint8Array(32).fill(3), solverKeyId: new Uint8Array(8).fill(2) }),
      { mode: 0o600 },
    );
  }
  const yaml = [
    `dataDir: ${join(dir, 'data')}`,
    'keystore: { passphrase: doctor-test }',
    o.gnssPath ? `gnss: { type: serial, path: ${o.gnssPath}, baudRate: 9600 }` : 'gnss: { type: none }',
    'radio:',
    ...(o.scanner ? [`  scanner: { uart: ${o.scanner} }`] : []),
    ...(o.advertiser ? [`  advertiser: { uart: ${o.advertiser} }`] : []),
    '  dutyCycle: continuous',
    `broker: { url: ${JSON.stringify(o.brokerUrl ?? broker?.url ?? 'mqtt://127.0.0.1:1')}, username: ${DEVICE}, password: ${devicePassword(DEVICE)} }`,
    `anchors: { caPublicKey: ${caPub}, gatewayPublicKey: ${caPub} }`,
    'http: { port: 0 }',
    'log: { level: silent }',
  ].join('\n');
  const path = join(dir, 'agent.yaml');
  writeFileSync(path, yaml + '\n');
  return path;
}

t.test('healthy kit: every check passes, exit 0', { skip: noBroker }, async (t) => {
  const r = rig(1);
  const res = await doctor(kit({ ...r, gnssPath: gnss.path }), ['--ntp', NTP, '--timeout', '25']);
  t.equal(res.code, 0, `exit 0; ${JSON.stringify(res.checks.filter((c) => !c.ok))} ${res.stderr}`);
  t.same(
    res.checks.map((c) => c.name),
    ['platform', 'radio', 'gnss', 'clock', 'storage', 'identity', 'uplink'],
  );
  for (const c of res.checks) t.same(Object.keys(c).sort(), ['detail', 'hint', 'name', 'ok'], `${c.name}: { name, ok, detail, hint }`);
  t.match(byName(res.checks, 'radio').detail, /scanner heard the advertiser's probe/);
  t.match(byName(res.checks, 'radio').detail, /manufacturer 0x[0-9a-f]{4}/, 'controller version reported');
  t.match(byName(res.checks, 'gnss').detail, /fix 3D|fix 2D/);
  t.match(byName(res.checks, 'clock').detail, /NTP 127\.0\.0\.1:\d+ \(stratum 2\)/);
  t.match(byName(res.checks, 'identity').detail, /verifies against anchors\.caPublicKey/);
  t.match(byName(res.checks, 'uplink').detail, new RegExp(`accepts ${DEVICE}`));
  t.match(byName(res.checks, 'platform').detail, /bindings-cpp@13\.0\.0: (prebuild|compiled)/);
  t.ok(res.ms < 25_000, `within --timeout 25 s (${Math.round(res.ms)} ms)`);
});

t.test('a UART that does not exist fails the radio check within the timeout, the hint names the path', async (t) => {
  const missing = join(root.dir, 'no-such-tty');
  // and an NTP server that does not answer: the clock check skips NTP and says why
  const res = await doctor(kit({ scanner: missing, gnssPath: gnss.path }), ['--ntp', '127.0.0.1:1', '--timeout', '20']);
  t.equal(res.code, 1);
  const radio = byName(res.checks, 'radio');
  t.equal(radio.ok, false);
  t.match(radio.hint, missing);
  const clock = byName(res.checks, 'clock');
  t.match(clock.detail, /NTP: skipped \(.*NTP 127\.0\.0\.1:1/);
  t.equal(clock.ok, true, 'an unreachable NTP server alone fails nothing (GNSS time agrees)');
  t.ok(res.ms < 20_000, `within --timeout 20 s (${Math.round(res.ms)} ms)`);
});

t.test('a silent controller (a PTY nobody answers on) fails the radio check within the timeout', async (t) => {
  const pty = openPty();
  t.teardown(() => pty.close());
  pty.stream.on('data', () => {});
  const res = await doctor(kit({ scanner: pty.path }), ['--ntp', 'off', '--timeout', '20']);
  t.equal(res.code, 1);
  const radio = byName(res.checks, 'radio');
  t.equal(radio.ok, false, radio.detail);
  t.match(radio.detail, /did not power on|no verdict/);
  t.match(radio.hint, pty.path);
  t.ok(res.ms < 20_000, `within --timeout 20 s (${Math.round(res.ms)} ms)`);
});

t.test('unplugged GNSS, broker down: gnss and uplink fail with their hints', async (t) => {
  const res = await doctor(kit({ gnssPath: join(root.dir, 'ttyGNSS-gone'), brokerUrl: 'mqtt://127.0.0.1:1' }), ['--ntp', NTP, '--timeout', '20']);
  t.equal(res.code, 1);
  const g = byName(res.checks, 'gnss');
  t.equal(g.ok, false);
  t.match(g.detail, /does not exist/);
  t.match(g.hint, 'ttyGNSS-gone');
  const u = byName(res.checks, 'uplink');
  t.equal(u.ok, false);
  t.match(u.detail, /NOT reachable/);
  t.match(u.hint, /broker up and reachable/);
  t.equal(byName(res.checks, 'storage').ok, true, 'storage unaffected');
});

t.test('the host clock 3 h ahead: the clock check fails against GNSS and NTP', { skip: missing('faketime') }, async (t) => {
  // an absolute start 3 h after this process's clock (itself maybe under libfaketime: the CI time matrix)
  const ahead = new Date(hostNow() + 3 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
  const res = await doctor(kit({ gnssPath: gnss.path }), ['--ntp', NTP, '--timeout', '20'], `@${ahead}`);
  t.equal(res.code, 1, res.stderr);
  const c = byName(res.checks, 'clock');
  t.equal(c.ok, false, c.detail);
  t.match(c.detail, /GNSS − host −3\.0 h/);
  t.match(c.detail, /NTP 127\.0\.0\.1:\d+ \(stratum 2\) − host −3\.0 h/);
  t.match(c.hint, /3\.0 h ahead of (GNSS|NTP) time/);
  t.equal(byName(res.checks, 'gnss').ok, true, 'the receiver itself is fine');
});

t.test('BlueZ-style "RSSI not available" (127) in every advert fails the radio check', async (t) => {
  const r = rig(2, true);
  const res = await doctor(kit(r), ['--ntp', 'off', '--timeout', '20']);
  const radio = byName(res.checks, 'radio');
  t.equal(radio.ok, false, radio.detail);
  t.match(radio.detail, /with RSSI not available \(127\)/);
  t.match(radio.hint, /RSSI 127/);
  t.equal(res.code, 1);
});

t.test('usage errors exit 2: an unknown option', async (t) => {
  const res = await doctor(kit({}), ['--no-such-option']);
  t.equal(res.code, 2);
  t.match(res.stderr, /unknown option '--no-such-option'/);
  t.same(res.checks, [], 'no verdicts printed');
});
