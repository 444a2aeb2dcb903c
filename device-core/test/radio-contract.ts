/**
 * The Radio contract (style rule 6: one suite per interface, run against every implementation):
 * radio-contract-memory.test.ts runs it on MemoryRadio, radio-contract-hci.test.ts on the real HciRadio
 * over virtual controllers. Two radios, each with a scanner and an advertiser, share one air; everything is
 * asserted through the Radio interface only, each radio being the other's witness.
 */
import type { Test } from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { encodeAdvert } from '@beepkit/protocol/frames';
import type { Radio, RadioStateEvent } from '../src/radio/index.ts';
import type { AdvertEvent } from '../src/scan/index.ts';

export interface RadioWorld {
  /** Two radios on one air, not started. */
  radio: Radio;
  peer: Radio;
  /** How long to wait for an advert (a virtual controller on a loaded machine is slow). */
  waitMs: number;
  close(): Promise<void>;
}

const ibeacon = (minor: number): Uint8Array =>
  encodeAdvert({ kind: 'ibeacon', uuid: '11111111-2222-3333-4444-555555555555', major: 1, minor, txPower: -59, flags: 6 });

/** Resolves with the first advert `r` reports that `pred` accepts; rejects after `ms`. */
export function heard(r: Radio, pred: (e: AdvertEvent) => boolean, label: string, ms = 10_000): Promise<AdvertEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      r.off('advert', on);
      reject(new Error(`timeout after ${ms} ms: ${label}`));
    }, ms);
    const on = (e: AdvertEvent): void => {
      if (!pred(e)) return;
      clearTimeout(timer);
      r.off('advert', on);
      resolve(e);
    };
    r.on('advert', on);
  });
}

/** Resolves after `r` reported `n` adverts that `pred` accepts. */
async function heardTimes(r: Radio, n: number, pred: (e: AdvertEvent) => boolean, label: string, ms: number): Promise<void> {
  for (let i = 0; i < n; i++) await heard(r, pred, `${label} (${i + 1} of ${n})`, ms);
}

/** Counts the adverts `r` reports until stopped. */
function counter(r: Radio, pred: (e: AdvertEvent) => boolean = () => true): { n: number; stop(): void } {
  const c = { n: 0, stop: () => r.off('advert', on) };
  const on = (e: AdvertEvent): void => void (pred(e) && c.n++);
  r.on('advert', on);
  return c;
}

const A = 'c1:00:00:00:00:0a';
const B = 'c2:00:00:00:00:0b';
const R = 'c3:00:00:00:00:0c';

export function radioContract(t: Test, name: string, world: () => Promise<RadioWorld>): void {
  t.test(`Radio contract: ${name}`, async (t) => {
    const w = await world();
    t.teardown(() => w.close());
    const { radio, peer, waitMs } = w;
    const states: RadioStateEvent[] = [];
    radio.on('state', (s) => states.push(s));
    await Promise.all([radio.start(), peer.start()]);

    t.test('start() resolves with both roles poweredOn', async (t) => {
      t.ok(
        states.some((s) => s.role === 'scanner' && s.state === 'poweredOn'),
        'scanner poweredOn',
      );
      t.ok(
        states.some((s) => s.role === 'advertiser' && s.state === 'poweredOn'),
        'advertiser poweredOn',
      );
      t.notOk(
        states.some((s) => s.resetDetected),
        'no reset reported',
      );
    });

    t.test('an advert reaches a scanning radio as advertised: bytes, random address, not connectable, an RSSI', async (t) => {
      await peer.advertise(ibeacon(1), undefined, { address: A });
      await radio.startScan({ dutyCycle: 'continuous' });
      const e = await heard(radio, (e) => e.address === A, "the peer's advert", waitMs);
      t.equal(toHex(e.data), toHex(ibeacon(1)), 'the AD bytes');
      t.equal(e.addressType, 'random', 'from the random address set with it');
      t.equal(e.connectable, false, 'ADV_NONCONN_IND by default');
      t.ok(Number.isInteger(e.rssi) && e.rssi >= -127 && e.rssi <= 20, `RSSI ${e.rssi} dBm`);
      t.ok(Number.isFinite(e.receivedAt), 'a receive time');
    });

    t.test('a connectable advert is reported connectable, without its scan response as an advert', async (t) => {
      const rsp = Uint8Array.of(0x05, 0x09, 0x62, 0x65, 0x65, 0x70);
      await peer.advertise(ibeacon(2), rsp, { address: B, connectable: true });
      const e = await heard(radio, (e) => e.address === B, 'the connectable advert', waitMs);
      t.equal(e.connectable, true);
      t.equal(toHex(e.data), toHex(ibeacon(2)));
      const later = counter(radio, (e) => toHex(e.data) === toHex(rsp));
      await heardTimes(radio, 3, (e) => e.address === B, 'more of it', waitMs);
      later.stop();
      t.equal(later.n, 0, 'the scan response is never reported as an advert');
    });

    t.test('address and payload change together: never the new payload from the old address', async (t) => {
      const mixed = counter(radio, (e) => (e.address === B && toHex(e.data) === toHex(ibeacon(3))) || (e.address === A && toHex(e.data) === toHex(ibeacon(2))));
      await peer.advertise(ibeacon(3), undefined, { address: A });
      await heardTimes(radio, 3, (e) => e.address === A && toHex(e.data) === toHex(ibeacon(3)), 'the rotated advert', waitMs);
      mixed.stop();
      t.equal(mixed.n, 0);
    });

    t.test('no advert is reported outside a scan window', async (t) => {
      await radio.advertise(ibeacon(4), undefined, { address: R });
      await radio.stopScan();
      const quiet = counter(radio);
      // the witness: the peer keeps hearing the radio's own advert meanwhile
      await peer.startScan({ dutyCycle: 'continuous' });
      await heardTimes(peer, 3, (e) => e.address === R && toHex(e.data) === toHex(ibeacon(4)), 'the peer hears the radio', waitMs);
      quiet.stop();
      t.equal(quiet.n, 0, 'nothing reported after stopScan()');
    });

    t.test('bad input is a typed error and leaves the advert on air', async (t) => {
      await t.rejects(radio.advertise(new Uint8Array(32)), { code: 'E_RANGE' }, '32 bytes of advertising data');
      await t.rejects(radio.advertise(ibeacon(5), new Uint8Array(32)), { code: 'E_RANGE' }, '32 bytes of scan response');
      await t.rejects(radio.advertise(ibeacon(5), undefined, { address: 'c3:00:00:00:00' }), { code: 'E_FORMAT' }, 'a malformed address');
      await t.rejects(radio.advertise(ibeacon(5), undefined, { intervalMs: { min: 10, max: 15 } }), { code: 'E_RANGE' }, 'an interval under 20 ms');
      await t.rejects(radio.startScan({ dutyCycle: { windowMs: 0, periodMs: 100 } }), { code: 'E_CONFIG' }, 'an empty scan window');
      const after = counter(peer, (e) => e.address === R && toHex(e.data) === toHex(ibeacon(5)));
      await heardTimes(peer, 2, (e) => e.address === R && toHex(e.data) === toHex(ibeacon(4)), 'the previous advert still on air', waitMs);
      after.stop();
      t.equal(after.n, 0, 'nothing of the refused adverts went out');
    });

    t.test('without an address the last random address is kept; stopAdvertising() ends the advert', async (t) => {
      await radio.advertise(ibeacon(6));
      await heard(peer, (e) => toHex(e.data) === toHex(ibeacon(6)) && e.address === R, 'the new payload from the kept address', waitMs);
      await radio.stopAdvertising();
      const gone = counter(peer, (e) => e.address === R);
      // the witness: the radio hears the peer meanwhile
      await radio.startScan({ dutyCycle: 'continuous' });
      await heardTimes(radio, 3, (e) => e.address === A, 'the radio hears the peer', waitMs);
      gone.stop();
      t.equal(gone.n, 0, 'the peer heard nothing more from the radio');
    });

    t.test('a duty-cycled scan reports adverts in its window', async (t) => {
      await radio.startScan({ dutyCycle: { windowMs: 60_000, periodMs: 120_000 } });
      const e = await heard(radio, (e) => e.address === A, 'an advert in the first window', waitMs);
      t.equal(toHex(e.data), toHex(ibeacon(3)));
      await radio.stopScan();
    });

    t.test('after stop(), scanning and advertising are refused (E_CONFIG)', async (t) => {
      await radio.stop();
      await t.rejects(radio.startScan({ dutyCycle: 'continuous' }), { code: 'E_CONFIG' });
      await t.rejects(radio.advertise(ibeacon(7)), { code: 'E_CONFIG' });
      await peer.stop();
    });
  });
}
