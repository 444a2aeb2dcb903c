/**
 * The AEM carries the advertiser controller's TX power (LE Read Advertising
 * Physical Channel Tx Power, as HciRadio reads it) plus the correction hook,
 * or the configured value when the controller reported none; the runner shows
 * which in its txPower field (/status .radio.txPower). EN adverts go out as
 * ADV_NONCONN_IND from the interval's non-resolvable private address.
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { decryptAem, encodeMetadata, enIntervalNumber, formatBleAddress, intervalIds } from '@beepkit/protocol/rpi';
import { decodeAdvert } from '@beepkit/protocol/frames';
import { RadioRunner } from '../src/app/radio-runner.ts';
import type { AdvertiseOptions, Radio, RadioEvents } from '../src/radio/index.ts';

class FakeRadio extends EventEmitter<RadioEvents> implements Radio {
  adverts: { ad: Uint8Array; opts?: AdvertiseOptions }[] = [];
  constructor(readonly advTxPower?: number) {
    super();
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async startScan(): Promise<void> {}
  async stopScan(): Promise<void> {}
  async advertise(ad: Uint8Array, _rsp?: Uint8Array, opts?: AdvertiseOptions): Promise<void> {
    this.adverts.push({ ad, opts });
  }
  async stopAdvertising(): Promise<void> {}
}

const TEK = new Uint8Array(16).fill(7);
const NOW = 20_000 * 86_400_000 + 9 * 3_600_000 + 120_000;

async function firstAdvert(radio: FakeRadio, o: Partial<ConstructorParameters<typeof RadioRunner>[0]> = {}) {
  const runner = new RadioRunner({ radio, scan: false, advertise: true, dutyCycle: 'continuous', txPower: -8, tek: () => TEK, now: () => NOW, watchdogMs: 0, ...o });
  runner.start();
  while (radio.adverts.length === 0) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  await runner.stop();
  return runner;
}

function metadataOf(ad: Uint8Array): Uint8Array {
  const f = decodeAdvert(ad);
  if (f.kind !== 'exposure-notification') throw new Error(`not EN: ${f.kind}`);
  return decryptAem(TEK, f.rpi, f.aem);
}

t.test('the controller\'s TX power plus the correction goes into the AEM', async (t) => {
  const radio = new FakeRadio(4);
  const runner = await firstAdvert(radio, { txPowerCorrection: () => -3 });
  t.equal(radio.adverts.length, 1, 'one advert');
  const [a] = radio.adverts;
  t.same([...metadataOf(a.ad)], [...encodeMetadata(1)], 'AEM metadata: 4 dBm − 3 dB = 1 dBm');
  t.same(runner.txPower, { controller: 4, correction: -3, advertised: 1, source: 'controller' });
  const [ids] = intervalIds(TEK, enIntervalNumber(NOW / 1000), 1);
  t.equal(a.opts?.address, formatBleAddress(ids.address).toLowerCase(), 'from the interval\'s address');
  t.equal(parseInt(a.opts!.address!.slice(0, 2), 16) >> 6, 0, 'non-resolvable private');
  t.equal(a.opts?.connectable, false, 'ADV_NONCONN_IND');
  t.same(a.opts?.intervalMs, { min: 200, max: 270 });
});

t.test('a controller that reports no TX power: the configured value, said so', async (t) => {
  const radio = new FakeRadio(undefined);
  const runner = await firstAdvert(radio, { advIntervalMs: { min: 220, max: 250 } });
  t.same([...metadataOf(radio.adverts[0].ad)], [...encodeMetadata(-8)]);
  t.same(runner.txPower, { controller: null, correction: 0, advertised: -8, source: 'config' });
  t.same(radio.adverts[0].opts?.intervalMs, { min: 220, max: 250 }, 'the configured interval');
});

t.test('a correction past the int8 range is clamped', async (t) => {
  const radio = new FakeRadio(10);
  const runner = await firstAdvert(radio, { txPowerCorrection: () => 30 });
  t.equal(runner.txPower.advertised, 20);
});
