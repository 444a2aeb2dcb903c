/**
 * The controller driven by a raw host (serialport on the PTY, as the stacks'
 * UART driver opens it): reset handshake, unknown commands, bad input,
 * re-attach, and dropping radio events while nobody reads.
 */
import t from 'tap';
import { Air, ADV_NONCONN_IND } from '../src/air/index.ts';
import { VirtualController, OP } from '../src/hci/index.ts';
import { RawHost } from './fixtures/raw-host.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.test('reset handshake, queries, unknown commands, bad input, re-attach', async (t) => {
  const air = new Air({ seed: 11 });
  const c = new VirtualController({ air, address: '11:22:33:44:55:66', manufacturer: 0x05f1 });
  c.start();
  const errors: string[] = [];
  c.on('hci-error', (e: { code: string }) => errors.push(e.code));
  t.teardown(() => {
    c.stop();
    air.stop();
  });
  const h = await RawHost.open(c.path);
  h.write('01 030c 00');
  await h.expect('04 0e 04 01 030c 00');
  t.ok(c.attached, 'attached after Reset');
  h.write('01 0110 00');
  await h.expect('04 0e 0c 01 0110 00 09 0000 09 f105 0000');
  h.write('01 0910 00');
  await h.expect('04 0e 0a 01 0910 00 665544332211');
  // unknown opcode: Command Complete with status 0x01, never silence
  h.write('01 3412 00');
  await h.expect('04 0e 04 01 3412 01');
  t.equal(c.counters.unknownCommands, 1);
  // wrong parameter length: Invalid HCI Command Parameters, counted E_HCI
  h.write('01 0604 01 40');
  await h.expect('04 0f 04 12 01 0604');
  // garbage, then a truncated command, then a good one after the partial timeout
  h.write('ff 00 13 37');
  h.write('01 03');
  await new Promise((r) => setTimeout(r, 400));
  h.write('01 0910 00');
  await h.expect('04 0e 0a 01 0910 00');
  t.same(errors, ['E_HCI', 'E_HCI', 'E_HCI'], 'bad length, junk run, truncated command');
  t.equal(c.counters.hciErrors, 3);
  // vendor set address (Linux Foundation 0xFC06) changes BD_ADDR
  h.write('01 06fc 06 0a0b0c0d0e0f');
  await h.expect('04 0e 04 01 06fc 00');
  t.equal(c.address, '0f:0e:0d:0c:0b:0a');
  // disconnect on an unknown handle → Command Status 0x02
  h.write('01 0604 03 4000 13');
  await h.expect('04 0f 04 02 01 0604');
  await h.close();
  // a new host attaches: new Reset handshake works
  const h2 = await RawHost.open(c.path);
  t.teardown(() => h2.close());
  h2.write('01 030c 00');
  await h2.expect('04 0e 04 01 030c 00');
  t.equal(c.counters.resets, 2);
  t.equal(OP.RESET, 0x0c03);
});

t.test('radio events are dropped (counted) while no host reads; link-layer scan works', async (t) => {
  const air = new Air({ seed: 12 });
  const c = new VirtualController({ air, address: '11:22:33:44:55:77', backlogLimit: 2048 });
  c.start();
  t.teardown(() => {
    c.stop();
    air.stop();
  });
  air.addBeacon({
    id: 'b',
    position: { x: 1, y: 0 },
    txPower: 0,
    intervalMs: 2,
    payload: Buffer.from('0201041aff4c000215' + '00'.repeat(21), 'hex'),
    type: ADV_NONCONN_IND,
  });
  const h = await RawHost.open(c.path);
  h.write('01 030c 00');
  await h.expect('04 0e 04 01 030c 00');
  h.write('01 0b20 07 00 1000 1000 00 00');
  await h.expect('04 0e 04 01 0b20 00');
  h.write('01 0c20 02 01 00');
  await h.expect('04 0e 04 01 0c20 00');
  await h.expect('04 3e 2a 02 01 03 01'); // one legacy report per event, random static address
  // the host goes away without a word: the kernel buffer fills, then our queue, then reports are dropped
  await h.close();
  const end = hostNow() + 30000;
  while (c.counters.droppedEvents < 20 && hostNow() < end) await new Promise((r) => setTimeout(r, 50));
  t.ok(c.counters.droppedEvents >= 20, `dropped ${c.counters.droppedEvents}`);
  t.ok(c.backlog < 2048 + 512, `backlog bounded (${c.backlog})`);
});
