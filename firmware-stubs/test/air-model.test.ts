import t from 'tap';
import {
  Air,
  Rng,
  expectedRssi,
  rssiBand,
  rangeM,
  inScanWindow,
  latLonToEnu,
  enuToLatLon,
  DEFAULT_RADIO,
  ADV_IND,
  SCAN_RSP,
  type AirListener,
  type RxAdv,
  type AirLink,
} from '../src/air/index.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.test('path loss model', async (t) => {
  t.equal(expectedRssi(0, 1), -DEFAULT_RADIO.refLossDb);
  t.equal(expectedRssi(0, 10, { refLossDb: 40, exponent: 2 }), -60);
  t.equal(expectedRssi(0, 0), expectedRssi(0, 0.1), 'near field clamped');
  const b = rssiBand(-4, 5);
  t.equal(b.hi - b.lo, 6 * DEFAULT_RADIO.shadowingSigmaDb);
  t.ok(Math.abs(expectedRssi(0, rangeM(0)) - DEFAULT_RADIO.sensitivityDbm) < 1e-9);
});

t.test('seeded RNG is deterministic and roughly normal', async (t) => {
  const a = new Rng(5);
  const b = new Rng(5);
  const xs = Array.from({ length: 4000 }, () => a.gauss());
  t.same(
    xs.slice(0, 10),
    Array.from({ length: 10 }, () => b.gauss()),
  );
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  t.ok(Math.abs(mean) < 0.1, `mean ${mean}`);
  t.ok(Math.abs(sd - 1) < 0.1, `sd ${sd}`);
});

t.test('WGS84 ↔ ENU', async (t) => {
  const origin = { lat: 47.3769, lon: 8.5417 };
  const p = latLonToEnu(origin, { lat: 47.3779, lon: 8.5427 });
  t.ok(Math.abs(p.y - 111.2) < 0.5, `north ${p.y}`);
  t.ok(Math.abs(p.x - 75.5) < 0.5, `east ${p.x}`);
  const back = enuToLatLon(origin, { x: 1234.5, y: -987.6 });
  const again = latLonToEnu(origin, back);
  t.ok(Math.abs(again.x - 1234.5) < 1e-3 && Math.abs(again.y + 987.6) < 1e-3);
  t.throws(() => latLonToEnu(origin, { lat: 95, lon: 0 }), { code: 'E_RANGE' });
});

t.test('scan window duty cycle', async (t) => {
  let inside = 0;
  for (let i = 0; i < 1000; i++) if (inScanWindow(i * 0.37, 0, 100, 25)) inside++;
  t.ok(inside > 220 && inside < 280, `inside ${inside}`);
  t.ok(inScanWindow(123, 0, 11.25, 11.25));
});

class Probe implements AirListener {
  adv: RxAdv[] = [];
  ups: { link: AirLink; role: number }[] = [];
  downs: number[] = [];
  data: Buffer[] = [];
  waiters: (() => void)[] = [];
  onAdv(rx: RxAdv): void {
    this.adv.push(rx);
    this.kick();
  }
  onLinkUp(link: AirLink, role: 0 | 1): void {
    this.ups.push({ link, role });
    this.kick();
  }
  onLinkData(_l: AirLink, _pb: number, d: Buffer): void {
    this.data.push(d);
    this.kick();
  }
  onLinkDown(_l: AirLink, reason: number): void {
    this.downs.push(reason);
    this.kick();
  }
  kick(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async until(pred: () => boolean, what: string, ms = 15000): Promise<void> {
    const end = hostNow() + ms;
    while (!pred()) {
      if (hostNow() > end) throw new Error(`timeout: ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
}

t.test('beacon reception: RSSI band, sensitivity, payloadFn', async (t) => {
  const air = new Air({ seed: 3 });
  t.teardown(() => air.stop());
  const rx = new Probe();
  air.attach('rx', rx, { position: { x: 0, y: 0 } });
  air.setScanning('rx', { active: true, intervalMs: 10, windowMs: 10 });
  let slot = 0;
  air.addBeacon({ id: 'b1', position: { x: 5, y: 0 }, txPower: -4, intervalMs: 10, payloadFn: () => Buffer.from([2, 1, slot++ & 0xff]) });
  await rx.until(() => rx.adv.length >= 30, '30 reports');
  const band = rssiBand(-4, 5, air.params, 4);
  t.ok(
    rx.adv.every((a) => a.rssi >= Math.floor(band.lo) && a.rssi <= Math.ceil(band.hi)),
    'all within ±4σ',
  );
  t.ok(new Set(rx.adv.map((a) => a.data[2])).size > 10, 'payload rotates per event');
  t.notOk(
    rx.adv.some((a) => a.type === SCAN_RSP),
    'non-connectable beacon: no scan response',
  );
  air.setPosition('b1', { x: 50_000, y: 0 });
  const before = rx.adv.length;
  const lost0 = air.txStats('b1').belowSensitivity;
  await rx.until(() => air.txStats('b1').belowSensitivity >= lost0 + 20, 'losses');
  t.ok(rx.adv.length - before <= 1, 'nothing received beyond sensitivity (at most one in flight)');
});

t.test('active scan gets SCAN_RSP; connection, ACL and link loss', async (t) => {
  const air = new Air({ seed: 4, supervisionCheckMs: 20 });
  t.teardown(() => air.stop());
  const c = new Probe();
  const p = new Probe();
  air.attach('c', c, { position: { x: 0, y: 0 } });
  air.attach('p', p, { position: { x: 2, y: 0 } });
  const addr = Buffer.from('010203040506', 'hex');
  air.setAdvertising('p', {
    intervalMs: 20,
    type: ADV_IND,
    address: addr,
    addressType: 0,
    advData: Buffer.from('020106', 'hex'),
    scanRspData: Buffer.from('03097878', 'hex'),
  });
  air.setScanning('c', { active: true, intervalMs: 10, windowMs: 10 });
  await c.until(() => c.adv.some((a) => a.type === SCAN_RSP), 'scan response');
  t.equal(c.adv.find((a) => a.type === SCAN_RSP)?.data.toString('hex'), '03097878');
  air.setScanning('c', null);
  air.connect('c', {
    peerAddress: addr,
    ownAddress: Buffer.alloc(6, 1),
    ownAddressType: 0,
    intervalMs: 15,
    supervisionTimeoutMs: 200,
    scanIntervalMs: 60,
    scanWindowMs: 60,
  });
  await c.until(() => c.ups.length === 1 && p.ups.length === 1, 'link up');
  t.equal(c.ups[0].role, 0);
  t.equal(p.ups[0].role, 1);
  t.ok(air.sendAcl(c.ups[0].link.id, 'c', 2, Buffer.from('hello')));
  await p.until(() => p.data.length === 1, 'acl');
  t.equal(p.data[0].toString(), 'hello');
  air.setPosition('p', { lat: 1, lon: 1 });
  await c.until(() => c.downs.length === 1 && p.downs.length === 1, 'link loss');
  t.same([c.downs[0], p.downs[0]], [0x08, 0x08]);
  t.equal(air.linkCount(), 0);
});
