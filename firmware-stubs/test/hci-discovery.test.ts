/**
 * Real noble scanning over a virtual controller: a host-less beacon and a
 * real bleno peripheral are discovered with RSSI in the model's band at 1, 5
 * and 15 m, vanish beyond sensitivity, and bleno's vendor set-address shows
 * up as a new address. Then extended scanning (feature bit 12) works too.
 */
import t from 'tap';
import { Air, rssiBand } from '../src/air/index.ts';
import { VirtualController, addrFromString, type TraceEntry } from '../src/hci/index.ts';
import { Host, until, type HostEvent } from './fixtures/child.ts';

const BEACON = 'c0:ff:ee:00:00:01';
const isFrom = (addr: string) => (e: HostEvent) => e.ev === 'discover' && e.address === addr;

async function samples(h: Host, addr: string, n: number, from: number): Promise<number[]> {
  await h.waitFor(() => h.events.slice(from).filter(isFrom(addr)).length >= n, 30_000, `${n} reports from ${addr}`, from);
  return h.events
    .slice(from)
    .filter(isFrom(addr))
    .map((e) => e.rssi as number);
}

t.test('legacy scanning: RSSI bands, sensitivity, set-address', async (t) => {
  const air = new Air({ seed: 41 });
  const s = new VirtualController({ air, address: '22:00:00:00:00:01', position: { x: 0, y: 0 } });
  const p = new VirtualController({ air, address: '22:00:00:00:00:02', position: { x: 0, y: 1 }, txPower: 0, manufacturer: 0x05f1 }); // Zephyr's vendor Write BD_ADDR (0xFC06)
  s.start();
  p.start();
  air.addBeacon({
    id: 'venue',
    position: { x: 1, y: 0 },
    txPower: -4,
    intervalMs: 25,
    address: addrFromString(BEACON),
    payload: Buffer.from('0201041aff4c000215' + 'ab'.repeat(21), 'hex'),
  });
  const scanner = new Host('noble-host.ts', { PORT: s.path });
  const periph = new Host('bleno-host.ts', { PORT: p.path, NAME: 'disc-periph', BLENO_ADVERTISING_INTERVAL: '25' });
  t.teardown(() => {
    scanner.kill();
    periph.kill();
    s.stop();
    p.stop();
    air.stop();
  });
  await scanner.waitFor((e) => e.state === 'poweredOn', 60_000, 'noble poweredOn');
  await periph.waitFor((e) => e.ev === 'advertisingStart', 60_000, 'bleno advertising');
  scanner.send({ op: 'scan', dup: true });
  const first = await scanner.waitFor(isFrom(BEACON), 30_000, 'beacon');
  t.equal(first.addressType, 'random');
  t.equal(first.connectable, false);
  t.match(first.mfr, /^4c000215/);
  t.equal((await scanner.waitFor(isFrom(p.address), 30_000, 'bleno')).name, 'disc-periph');

  for (const d of [1, 5, 15]) {
    air.setPosition('venue', { x: d, y: 0 });
    air.setPosition(p.id, { x: 0, y: d });
    await new Promise((r) => setTimeout(r, 150)); // let reports in flight from the old position drain
    const from = scanner.mark();
    for (const [addr, tx] of [
      [BEACON, -4],
      [p.address, 0],
    ] as const) {
      const got = await samples(scanner, addr, 10, from);
      const band = rssiBand(tx, d, air.params, 3);
      const wide = rssiBand(tx, d, air.params, 5);
      const mean = got.reduce((a, b) => a + b, 0) / got.length;
      t.ok(mean >= band.lo && mean <= band.hi, `${addr} at ${d} m: mean ${mean.toFixed(1)} in [${band.lo.toFixed(1)}, ${band.hi.toFixed(1)}]`);
      t.ok(
        got.every((r) => r >= Math.floor(wide.lo) && r <= Math.ceil(wide.hi)),
        `${addr} at ${d} m: all of ${got} within ±5σ`,
      );
    }
  }

  // beyond sensitivity: nothing more is reported
  air.setPosition('venue', { x: 20_000, y: 0 });
  air.setPosition(p.id, { x: 0, y: 20_000 });
  const lost0 = air.txStats('venue').belowSensitivity;
  await until(() => air.txStats('venue').belowSensitivity >= lost0 + 10, 30_000, 'losses start');
  const mark = scanner.mark();
  const lost1 = air.txStats('venue').belowSensitivity;
  await until(() => air.txStats('venue').belowSensitivity >= lost1 + 30, 30_000, 'more losses');
  t.equal(scanner.events.slice(mark).filter((e) => e.ev === 'discover').length, 0, 'nothing discovered beyond sensitivity');
  t.ok(air.txStats(p.id).belowSensitivity > 0);

  // vendor set-address (0xFC06) rotates the address the scanner sees
  air.setPosition(p.id, { x: 0, y: 2 });
  periph.send({ op: 'setAddress', address: '22:00:00:00:00:99' });
  const rotated = await scanner.waitFor(isFrom('22:00:00:00:00:99'), 30_000, 'rotated address');
  t.equal(rotated.name, 'disc-periph');
  t.equal(p.address, '22:00:00:00:00:99');
  t.equal(s.counters.hciErrors + p.counters.hciErrors, 0);
});

t.test('extended scanning: feature bit 12 switches noble to 0x2041/0x2042 and Ext Adv Reports', async (t) => {
  const air = new Air({ seed: 42 });
  const s = new VirtualController({ air, address: '22:00:00:00:01:01', extendedFeature: true });
  s.start();
  const trace: TraceEntry[] = [];
  s.on('trace', (e: TraceEntry) => trace.push(e));
  air.addBeacon({
    id: 'venue',
    position: { x: 3, y: 0 },
    txPower: -4,
    intervalMs: 25,
    address: addrFromString(BEACON),
    payload: Buffer.from('0201040303aafe', 'hex'),
  });
  const scanner = new Host('noble-host.ts', { PORT: s.path });
  t.teardown(() => {
    scanner.kill();
    s.stop();
    air.stop();
  });
  await scanner.waitFor((e) => e.state === 'poweredOn', 60_000, 'noble poweredOn');
  scanner.send({ op: 'scan', dup: false });
  const got = await scanner.waitFor(isFrom(BEACON), 30_000, 'beacon via extended report');
  t.equal(got.addressType, 'random');
  t.ok(
    trace.some((e) => e.name === 'LE_SET_EXT_SCAN_ENABLE' && e.hex.startsWith('01')),
    'extended scan enable used',
  );
  t.ok(
    trace.some((e) => e.name === 'LE_EXTENDED_ADVERTISING_REPORT'),
    'extended reports sent',
  );
  t.notOk(
    trace.some((e) => e.name === 'LE_ADVERTISING_REPORT'),
    'no legacy reports',
  );
});
