/**
 * Agent Radio on the virtual air: scans a host-less beacon and gets classified
 * adverts; advertises EN frames (with a rotated address) that a second Radio sees.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { encodeAdvert, decodeAdvert } from '@beepkit/protocol/frames';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { buildEnAdvert, EN_FLAGS } from '../src/radio/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
type Ev = { ev: string; [k: string]: any };

class Child {
  readonly events: Ev[] = [];
  readonly stderr: string[] = [];
  private readonly proc: ChildProcess;
  private waiters: { pred: (e: Ev) => boolean; resolve: (e: Ev) => void }[] = [];
  constructor(env: Record<string, string>) {
    const clean = { ...process.env };
    delete clean.HCI_CHANNEL_USER;
    delete clean.BLUETOOTH_HCI_SOCKET_UART_PORT;
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'radio-child.ts')], { env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      let e: Ev;
      try {
        e = JSON.parse(l) as Ev;
      } catch {
        return;
      }
      this.events.push(e);
      for (const w of [...this.waiters]) if (w.pred(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    });
    createInterface({ input: this.proc.stderr! }).on('line', (l) => this.stderr.push(l));
  }
  send(cmd: Record<string, unknown>): void {
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
  }
  waitFor(pred: (e: Ev) => boolean, label: string, ms = 60_000): Promise<Ev> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout: ${label}; last ${JSON.stringify(this.events.slice(-3))}; stderr ${this.stderr.slice(-3).join(' | ')}`)), ms);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

t.test('EN advert helper: 31-byte legacy payload', async (t) => {
  const rpi = new Uint8Array(16).fill(0xab);
  const aem = Uint8Array.of(0x40, 0xf8, 0, 0);
  const ad = buildEnAdvert(rpi, aem);
  t.equal(ad.length, 31);
  t.equal(toHex(ad.subarray(0, 7)), `0201${EN_FLAGS.toString(16)}03036ffd`);
  const back = decodeAdvert(ad);
  t.equal(back.kind, 'exposure-notification');
  t.throws(() => buildEnAdvert(new Uint8Array(15), aem), { code: 'E_RANGE' });
});

t.test('scan a host-less beacon; advertise EN that a second Radio sees', async (t) => {
  const air = new Air({ seed: 11 });
  const scanC = new VirtualController({ air, address: '0a:00:00:00:00:01', position: { x: 0, y: 0 } });
  const advC = new VirtualController({ air, address: '0a:00:00:00:00:02', position: { x: 1, y: 0 } });
  const scan2C = new VirtualController({ air, address: '0a:00:00:00:00:03', position: { x: 2, y: 0 } });
  for (const c of [scanC, advC, scan2C]) c.start();
  const ibeacon = encodeAdvert({ kind: 'ibeacon', uuid: '11111111-2222-3333-4444-555555555555', major: 7, minor: 9, txPower: -59, flags: 6 });
  air.addBeacon({ id: 'beacon', position: { x: 3, y: 0 }, payload: ibeacon, intervalMs: 50, type: 0x03 });
  // phone A: scanner + advertiser (two controllers at about the same place); phone B: scanner
  const a = new Child({ SCAN_PORT: scanC.path, ADV_PORT: advC.path });
  const b = new Child({ SCAN_PORT: scan2C.path });
  t.teardown(() => {
    a.kill();
    b.kill();
    for (const c of [scanC, advC, scan2C]) c.stop();
    air.stop();
  });
  await Promise.all([a.waitFor((e) => e.ev === 'ready', 'A ready'), b.waitFor((e) => e.ev === 'ready', 'B ready')]);
  a.send({ op: 'scan' });
  b.send({ op: 'scan' });
  const beacon = await a.waitFor((e) => e.ev === 'advert' && e.kind === 'ibeacon', 'A sees the iBeacon');
  t.equal(beacon.data, toHex(ibeacon), 'raw AD bytes as sent');
  t.ok(beacon.rssi < 0 && beacon.rssi > -110, `plausible RSSI ${beacon.rssi}`);
  t.equal(beacon.connectable, false);

  const rpi = 'a1'.repeat(16);
  a.send({ op: 'en', rpi, aem: '40f80000', address: 'c6:11:22:33:44:55' });
  await a.waitFor((e) => e.ev === 'done' && e.op === 'en', 'A advertising EN');
  const en = await b.waitFor((e) => e.ev === 'advert' && e.kind === 'exposure-notification', 'B sees A\'s EN advert');
  t.equal(en.data, toHex(buildEnAdvert(new Uint8Array(16).fill(0xa1), Uint8Array.of(0x40, 0xf8, 0, 0))));
  t.equal(en.address, 'c6:11:22:33:44:55', 'address rotated with the RPI');
  const errors = [...a.events, ...b.events].filter((e) => e.ev === 'error');
  t.same(errors, [], 'no radio errors');
});
