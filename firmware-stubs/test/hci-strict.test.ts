/**
 * The strict virtual controller, byte by byte from a raw host: a manufacturer
 * ID with its own vendor commands only (Unknown HCI Command otherwise), the
 * rules on random addresses, no mixing of legacy and extended advertising
 * commands, and the Exposure Notification conformance mode: one conforming
 * advert passes, and each planted violation (PDU type, address type, address
 * kind, interval, payload length, rotation lockstep both ways) is flagged.
 */
import t from 'tap';
import { Air } from '../src/air/index.ts';
import { VirtualController, type EnViolation } from '../src/hci/index.ts';
import { RawHost } from './fixtures/raw-host.ts';

const le16 = (n: number) => Buffer.from([n & 0xff, n >> 8]).toString('hex');

async function command(h: RawHost, op: number, params = '', status = 0): Promise<void> {
  const p = params.replace(/ /g, '');
  h.write(`01 ${le16(op)} ${(p.length / 2).toString(16).padStart(2, '0')} ${p}`);
  await h.expect(`04 0e 04 01 ${le16(op)} ${status.toString(16).padStart(2, '0')}`);
}

/** Address 'aa:bb:…' (MSB first) in HCI order. */
const wire = (a: string) => a.split(':').reverse().join('');
/** An EN advert: flags, FD6F list, FD6F service data of `n` bytes starting with `rpi` (hex). */
function enAd(rpi: string, n = 20): string {
  const body = (rpi + '00'.repeat(20)).slice(0, n * 2);
  const ad = `020106 03036ffd ${(n + 3).toString(16).padStart(2, '0')}166ffd${body}`.replace(/ /g, '');
  const len = ad.length / 2;
  return len.toString(16).padStart(2, '0') + ad + '00'.repeat(31 - len);
}
/** LE Set Advertising Parameters: interval min/max (units), type, own address type, channels 37–39. */
const params = (lo: number, hi: number, type: number, own: number) => `${le16(lo)}${le16(hi)}${type.toString(16).padStart(2, '0')}0${own}00000000000000 07 00`;

async function advertise(h: RawHost, o: { address?: string; type?: number; own?: number; lo?: number; hi?: number; ad: string }): Promise<void> {
  await command(h, 0x200a, '00');
  if (o.address) await command(h, 0x2005, wire(o.address));
  await command(h, 0x2006, params(o.lo ?? 0x140, o.hi ?? 0x1b0, o.type ?? 0x03, o.own ?? 1));
  await command(h, 0x2008, o.ad);
  await command(h, 0x200a, '01');
}

t.test('manufacturer, vendor commands, random address rules, legacy/extended mixing', async (t) => {
  const air = new Air({ seed: 24 });
  const c = new VirtualController({ air, address: '11:22:33:44:24:01' });
  c.start();
  t.teardown(() => {
    c.stop();
    air.stop();
  });
  const h = await RawHost.open(c.path);
  t.teardown(() => h.close());
  await command(h, 0x0c03);
  h.write('01 0110 00');
  await h.expect('04 0e 0c 01 0110 00 09 0000 09 5900 0000'); // manufacturer 0x0059, which bleno knows no vendor command for
  await command(h, 0xfc06, '0a0b0c0d0e0f', 0x01);
  t.equal(c.address, '11:22:33:44:24:01', 'a vendor command of another manufacturer: Unknown HCI Command, BD_ADDR unchanged');
  t.equal(c.counters.unknownCommands, 1);

  await command(h, 0x2006, params(0x140, 0x1b0, 0x03, 1));
  await command(h, 0x200a, '01', 0x12); // own address random, no random address set
  t.equal(c.st.advertising, false, 'random own address without LE Set Random Address: Invalid HCI Command Parameters');
  await command(h, 0x2005, wire('05:01:02:03:04:05'));
  await command(h, 0x200a, '01');
  await command(h, 0x2005, wire('06:01:02:03:04:05'), 0x0c);
  t.equal(c.st.randomAddress?.toString('hex'), wire('05:01:02:03:04:05'), 'LE Set Random Address while advertising: Command Disallowed');
  await command(h, 0x200a, '00');
  await command(h, 0x2006, params(0x10, 0x1b0, 0x03, 1), 0x12);
  await command(h, 0x2006, params(0x140, 0x1b0, 0x03, 1).replace(/07 00$/, '00 00'), 0x12);
  t.same(
    { min: c.st.advParams.intervalMin, channels: c.st.advParams.channelMap },
    { min: 0x140, channels: 0x07 },
    'interval below 20 ms or no channel: Invalid HCI Command Parameters, the parameters in force unchanged',
  );

  // legacy advertising commands were used since Reset: extended ones are Command Disallowed, and vice versa after a Reset
  await command(h, 0x2041, '00 00 01 01 1000 1000', 0x0c);
  await command(h, 0x2036, '00 1300 a00000 a00000 07 01 00 00000000000000 00 7f 01 00 01 00 00', 0x0c);
  t.equal(c.counters.disallowed, 2, 'mixed commands refused');
  await command(h, 0x0c03);
  await command(h, 0x2041, '00 00 01 01 1000 1000');
  await command(h, 0x200b, '01 1000 1000 00 00', 0x0c);
  t.equal(c.counters.disallowed, 3, 'after Reset the extended set is in use: a legacy scan command is refused');
});

t.test('EN conformance mode: each planted violation is flagged, a conforming advert is not', async (t) => {
  const air = new Air({ seed: 25 });
  const c = new VirtualController({ air, address: '11:22:33:44:24:02', enConformance: true });
  c.start();
  const flagged: EnViolation[] = [];
  c.on('conformance', (v: EnViolation) => flagged.push(v));
  t.teardown(() => {
    c.stop();
    air.stop();
  });
  const h = await RawHost.open(c.path);
  t.teardown(() => h.close());
  await command(h, 0x0c03);
  const plant = async (what: string, o: Parameters<typeof advertise>[1]) => {
    const mark = flagged.length;
    await advertise(h, o);
    return (
      flagged
        .slice(mark)
        .map((v) => v.rule)
        .join(',') || `none (${what})`
    );
  };
  t.equal(await plant('conforming', { address: '01:00:00:00:00:01', ad: enAd('a1'.repeat(16)) }), 'none (conforming)', 'a conforming EN advert is not flagged');
  t.equal(await plant('', { address: '01:00:00:00:00:02', ad: enAd('a2'.repeat(16)), type: 0x00 }), 'pdu-type', 'ADV_IND');
  t.equal(await plant('', { ad: enAd('a3'.repeat(16)), own: 0 }), 'address-type', 'public address');
  t.equal(await plant('', { address: 'c1:00:00:00:00:04', ad: enAd('a4'.repeat(16)) }), 'address-kind', 'random static address (top bits 11)');
  t.equal(await plant('', { address: '01:00:00:00:00:05', ad: enAd('a5'.repeat(16)), lo: 0xa0, hi: 0xa0 }), 'interval', '100 ms');
  t.equal(await plant('', { address: '01:00:00:00:00:06', ad: enAd('a6'.repeat(16), 19) }), 'payload-length', '19-byte service data');
  t.equal(await plant('', { ad: enAd('a7'.repeat(16)) }), 'lockstep', 'a new RPI from the same address');
  t.equal(await plant('', { address: '01:00:00:00:00:08', ad: enAd('a7'.repeat(16)) }), 'lockstep', 'the same RPI from a new address');
  // a new payload written while advertising, without a new address
  const mark = flagged.length;
  await command(h, 0x2008, enAd('a9'.repeat(16)));
  t.same(
    flagged.slice(mark).map((v) => v.rule),
    ['lockstep'],
    'LE Set Advertising Data while advertising: flagged',
  );
  t.equal(c.counters.conformanceViolations, 8);
  t.same(c.conformance?.counts, { 'pdu-type': 1, 'address-type': 1, 'address-kind': 1, interval: 1, 'payload-length': 1, lockstep: 3 });
  t.ok(
    flagged.every((v) => typeof v.message === 'string' && v.message.length > 10),
    'each with a message',
  );
  // a non-EN advert (a venue frame) is not judged by EN rules
  t.equal(await plant('venue', { ad: '0702010603031111' + '00'.repeat(24), type: 0x00, own: 0 }), 'none (venue)');
});
