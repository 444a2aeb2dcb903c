import t from 'tap';
import fc from 'fast-check';
import { once } from 'node:events';
import { isBeepkitError } from '@beepkit/protocol';
import { H4Parser, type H4Packet, decodeCommand, OP, events as ev, addrFromString, addrToString } from '../src/hci/index.ts';

function collect(p: H4Parser): { pkts: H4Packet[]; errors: string[] } {
  const out = { pkts: [] as H4Packet[], errors: [] as string[] };
  p.on('data', (x: H4Packet) => out.pkts.push(x));
  p.on('hci-error', (e: Error & { code: string }) => out.errors.push(e.code));
  return out;
}

t.test('H4 parser: commands and ACL split across chunks', async (t) => {
  const p = new H4Parser();
  const got = collect(p);
  // Reset; LE Set Scan Enable (00 01); ACL handle 0x040, PB=10, 5 bytes
  const all = Buffer.from('01030c00' + '010c20020001' + '0240200500' + '0102030405', 'hex');
  for (const b of all) p.write(Buffer.from([b]));
  await new Promise((r) => setImmediate(r));
  t.same(got.errors, []);
  t.equal(got.pkts.length, 3);
  t.match(got.pkts[0], { kind: 'cmd', opcode: OP.RESET });
  t.match(got.pkts[1], { kind: 'cmd', opcode: OP.LE_SET_SCAN_ENABLE });
  t.same([...(got.pkts[1] as { params: Buffer }).params], [0, 1]);
  t.match(got.pkts[2], { kind: 'acl', handle: 0x40, pb: 2 });
  t.equal((got.pkts[2] as { data: Buffer }).data.toString('hex'), '0102030405');
  p.destroy();
});

t.test('H4 parser: junk counted once per run, resyncs; partial packet times out', async (t) => {
  const p = new H4Parser({ partialTimeoutMs: 30 });
  const got = collect(p);
  p.write(Buffer.from('ffeedd01030c00', 'hex'));
  p.write(Buffer.from('0103', 'hex')); // truncated command
  const err = once(p, 'hci-error');
  await err;
  p.write(Buffer.from('01030c00', 'hex'));
  await new Promise((r) => setImmediate(r));
  t.same(got.errors, ['E_HCI', 'E_HCI']);
  t.equal(got.pkts.filter((x) => x.kind === 'cmd' && x.opcode === OP.RESET).length, 2);
  p.destroy();
});

t.test('H4 parser never throws on arbitrary bytes', async (t) => {
  await t.resolves(
    fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const p = new H4Parser({ partialTimeoutMs: 5 });
        const got = collect(p);
        p.write(Buffer.from(bytes));
        p.destroy();
        return got.pkts.every((x) => x.kind === 'cmd' || x.kind === 'acl');
      }),
      { seed: 42, numRuns: 200 },
    ),
    'no exception escaped and every packet is a command or ACL',
  );
});

t.test('command decoders: exact lengths, typed errors only', async (t) => {
  const scan = decodeCommand(OP.LE_SET_SCAN_PARAMS, Buffer.from('01120012000000', 'hex'));
  t.same(scan?.params, { active: true, interval: 0x12, window: 0x12, ownAddressType: 0 });
  const conn = decodeCommand(OP.LE_CREATE_CONN, Buffer.from('6000300000000255443322110006001200000' + '02a0004000600', 'hex'));
  t.match(conn?.params, { scanInterval: 0x60, peerAddressType: 0, intervalMax: 0x12, timeout: 0x2a });
  t.equal(addrToString(conn?.params.peerAddress), '11:22:33:44:55:02');
  const ext = decodeCommand(OP.LE_EXT_CREATE_CONN, Buffer.from('000000025544332211016000600006001200000' + '02a0000000000', 'hex'));
  t.match(ext?.params, { scanInterval: 0x60, intervalMax: 0x12, timeout: 0x2a });
  t.equal(decodeCommand(0xfc99, Buffer.alloc(0)), undefined, 'unknown opcode → undefined');
  t.throws(() => decodeCommand(OP.DISCONNECT, Buffer.from('40', 'hex')), { code: 'E_TRUNCATED' });
  t.throws(() => decodeCommand(OP.RESET, Buffer.from('00', 'hex')), { code: 'E_TRAILING' });
  fc.assert(
    fc.property(fc.constantFrom(...Object.values(OP)), fc.uint8Array({ maxLength: 40 }), (op, params) => {
      try {
        decodeCommand(op, Buffer.from(params));
        return true;
      } catch (e) {
        return isBeepkitError(e);
      }
    }),
    { seed: 7, numRuns: 500 },
  );
});

t.test('event encoders', async (t) => {
  t.equal(ev.commandComplete(OP.RESET, Buffer.from([0])).toString('hex'), '040e0401030c00', 'first Reset CC exactly as uart.js waits for it');
  t.equal(ev.commandStatus(OP.LE_CREATE_CONN, 0).toString('hex'), '040f0400010d20');
  t.equal(ev.disconnectionComplete(0x40, 0x08).toString('hex'), '0405040040000' + '8');
  t.equal(ev.numberOfCompletedPackets(0x40, 1).toString('hex'), '0413050140000100');
  const addr = addrFromString('11:22:33:44:55:02');
  const f = { status: 0, handle: 0x40, role: 0, peerAddressType: 0, peerAddress: addr, intervalUnits: 0x12, latency: 0, timeoutUnits: 0x2a };
  t.equal(ev.leConnectionComplete(f, false).toString('hex'), '043e13010040000000025544332211120000002a0000');
  t.equal(ev.leConnectionComplete(f, true).length, 3 + 31);
  const rep = ev.leAdvertisingReport({ type: 0, addressType: 0, address: addr, data: Buffer.from('020106', 'hex'), rssi: -60 });
  t.equal(rep.toString('hex'), '043e0f02010000025544332211030201' + '06c4');
  const ext = ev.leExtendedAdvertisingReport({ type: 4, scanRspTo: 0, addressType: 0, address: addr, data: Buffer.from('0201', 'hex'), rssi: -60 });
  t.equal(ext.readUInt16LE(5), 0x1b, 'SCAN_RSP to ADV_IND as extended event type 0x1b');
  t.equal(ev.aclPacket(0x40, 2, Buffer.from('aa', 'hex')).toString('hex'), '02402001' + '00aa');
  t.equal(ev.packetName(rep), 'LE_ADVERTISING_REPORT');
});
