/**
 * Real noble (central) connects to real bleno (peripheral) through two
 * virtual controllers on one air: GATT discovery, a fragmented 200-byte read,
 * writes with and without response, notifications, Read RSSI, disconnect
 * seen by both sides, then link loss by distance (reason 0x08 on both).
 */
import t from 'tap';
import { Air } from '../src/air/index.ts';
import { VirtualController, type TraceEntry } from '../src/hci/index.ts';
import { Host } from './fixtures/child.ts';

t.test('connect, GATT, disconnect, link loss', async (t) => {
  const air = new Air({ seed: 31, supervisionCheckMs: 20 });
  const c = new VirtualController({ air, address: '11:22:33:44:55:01', position: { x: 0, y: 0 } });
  const p = new VirtualController({ air, address: '11:22:33:44:55:02', position: { x: 3, y: 0 } });
  c.start();
  p.start();
  const pTrace: TraceEntry[] = [];
  const cTrace: TraceEntry[] = [];
  p.on('trace', (e: TraceEntry) => pTrace.push(e));
  c.on('trace', (e: TraceEntry) => cTrace.push(e));
  const central = new Host('noble-host.ts', { PORT: c.path });
  const periph = new Host('bleno-host.ts', { PORT: p.path, NAME: 'gatt-periph', BLENO_ADVERTISING_INTERVAL: '30', READ_LEN: '200' });
  t.teardown(() => {
    central.kill();
    periph.kill();
    c.stop();
    p.stop();
    air.stop();
  });
  await central.waitFor((e) => e.state === 'poweredOn', 60_000, 'noble poweredOn');
  await periph.waitFor((e) => e.ev === 'advertisingStart', 60_000, 'bleno advertising');
  central.send({ op: 'scan', dup: false });
  const found = await central.waitFor((e) => e.ev === 'discover' && e.address === p.address, 30_000, 'discover');
  t.equal(found.name, 'gatt-periph');
  t.equal(found.connectable, true);

  central.send({ op: 'connect', address: p.address, gatt: true });
  const done = await central.waitFor((e) => e.ev === 'done' || e.ev === 'error', 60_000, 'gatt done');
  t.equal(done.ev, 'done', JSON.stringify(done));
  t.match(await periph.waitFor((e) => e.ev === 'accept'), { address: c.address });
  t.same(
    (await central.waitFor((e) => e.ev === 'discovered')).uuids.filter((u: string) => u.startsWith('fff')),
    ['fff1', 'fff2', 'fff3'],
  );
  const read = await central.waitFor((e) => e.ev === 'read');
  t.equal(read.length, 200);
  t.equal(read.hex, Buffer.from(Array.from({ length: 200 }, (_, i) => i)).toString('hex'));
  const toCentral = cTrace.filter((e) => e.dir === 'acl-out').map((e) => e.hex);
  t.ok(
    toCentral.some((h) => h.startsWith('024010')),
    'continuation fragments (PB=01) reached the central',
  );
  t.notOk(
    [...toCentral, ...pTrace.filter((e) => e.dir === 'acl-out').map((e) => e.hex)].some(
      (h) => /^02..[0-3]/.test(h.slice(0, 6)) && (parseInt(h.slice(4, 6), 16) & 0x30) === 0,
    ),
    'no PB=00 ever sent to a host',
  );
  const writes = periph.events.filter((e) => e.ev === 'write');
  t.same(
    writes.map((w) => [w.hex, w.withoutResponse]),
    [
      ['c0ffee', false],
      ['beef', true],
    ],
  );
  // more ticks may land while the unsubscribe is in flight: they must still be in order
  const ticks = central.events.filter((e) => e.ev === 'notify').map((e) => e.text);
  t.same(ticks.slice(0, 2), ['tick 0', 'tick 1']);
  t.same(
    ticks,
    ticks.map((_, i) => `tick ${i}`),
    'notifications in order, none lost',
  );
  await periph.waitFor((e) => e.ev === 'unsubscribe', 10_000, 'unsubscribe');
  const rssi = (await central.waitFor((e) => e.ev === 'rssi')).rssi;
  t.ok(rssi < 0 && rssi > -90, `Read RSSI ${rssi}`);
  t.ok(c.counters.aclFromHost > 5 && p.counters.aclFromHost > 5, 'ACL both ways');

  // host-initiated disconnect: local 0x16, remote gets the reason sent (0x13)
  central.send({ op: 'disconnect', address: p.address });
  t.match(await central.waitFor((e) => e.ev === 'disconnect', 20_000, 'central disconnect'), { reason: 0x16 });
  await periph.waitFor((e) => e.ev === 'disconnect', 20_000, 'peripheral disconnect');
  t.ok(
    pTrace.some((e) => e.name === 'DISCONNECTION_COMPLETE' && e.hex.endsWith('13')),
    'peripheral got reason 0x13',
  );

  // link loss by distance: both sides get Disconnection Complete 0x08
  const [cm, pm] = [central.mark(), periph.mark()];
  central.send({ op: 'connect', address: p.address, gatt: false });
  await central.waitFor((e) => e.ev === 'connected', 30_000, 'reconnected', cm);
  await periph.waitFor((e) => e.ev === 'accept', 20_000, 'accept again', pm);
  air.setPosition(p.id, { x: 100_000, y: 0 });
  t.match(await central.waitFor((e) => e.ev === 'disconnect', 20_000, 'central link loss', cm), { reason: 0x08 });
  await periph.waitFor((e) => e.ev === 'disconnect', 20_000, 'peripheral link loss', pm);
  t.ok(
    pTrace.some((e) => e.name === 'DISCONNECTION_COMPLETE' && e.hex.endsWith('08')),
    'peripheral got reason 0x08',
  );
  t.equal(air.linkCount(), 0);
});
