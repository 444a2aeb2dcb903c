/**
 * The AEM carries the advertiser controller's TX power (LE Read Advertising
 * Physical Channel Tx Power, as HciRadio reads it) plus the correction hook,
 * or the configured value when the controller reported none; the runner shows
 * which in its txPower field (/status .radio.txPower). EN adverts go out as
 * ADV_NONCONN_IND from the interval's non-resolvable private address.
 */
import t from 'tap';
import { decryptAem, encodeMetadata, enIntervalNumber, formatBleAddress, intervalIds } from '@beepkit/protocol/rpi';
import { decodeAdvert } from '@beepkit/protocol/frames';
import { RadioRunner } from '../src/radio/runner.ts';
import { MemoryRadio } from '../src/radio/index.ts';

const TEK = new Uint8Array(16).fill(7);
const NOW = 20_000 * 86_400_000 + 9 * 3_600_000 + 120_000;

/** The runner's first EN advert on a MemoryRadio whose controller reports `advTxPower`, and how many it sent by then. */
async function firstAdvert(advTxPower: number | undefined, o: Partial<ConstructorParameters<typeof RadioRunner>[0]> = {}) {
  const radio = new MemoryRadio({ scanner: false, ...(advTxPower !== undefined ? { advTxPower } : {}) });
  const runner = new RadioRunner({
    radio,
    scan: false,
    advertise: true,
    dutyCycle: 'continuous',
    txPower: -8,
    tek: () => TEK,
    now: () => NOW,
    watchdogMs: 0,
    ...o,
  });
  runner.start();
  while (!radio.onAir) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  const a = radio.onAir!;
  const sent = radio.counters.advertised;
  await runner.stop();
  return { runner, a, sent };
}

function metadataOf(ad: Uint8Array): Uint8Array {
  const f = decodeAdvert(ad);
  if (f.kind !== 'exposure-notification') throw new Error(`not EN: ${f.kind}`);
  return decryptAem(TEK, f.rpi, f.aem);
}

t.test("the controller's TX power plus the correction goes into the AEM", async (t) => {
  const { runner, a, sent } = await firstAdvert(4, { txPowerCorrection: () => -3 });
  t.equal(sent, 1, 'one advert');
  t.same([...metadataOf(a.data)], [...encodeMetadata(1)], 'AEM metadata: 4 dBm − 3 dB = 1 dBm');
  t.same(runner.txPower, { controller: 4, correction: -3, advertised: 1, source: 'controller' });
  const [ids] = intervalIds(TEK, enIntervalNumber(NOW / 1000), 1);
  t.equal(a.address, formatBleAddress(ids.address).toLowerCase(), "from the interval's address");
  t.equal(a.addressType, 'random');
  t.equal(parseInt(a.address.slice(0, 2), 16) >> 6, 0, 'non-resolvable private');
  t.equal(a.connectable, false, 'ADV_NONCONN_IND');
  t.same(a.intervalMs, { min: 200, max: 270 });
});

t.test('a controller that reports no TX power: the configured value, said so', async (t) => {
  const { runner, a } = await firstAdvert(undefined, { advIntervalMs: { min: 220, max: 250 } });
  t.same([...metadataOf(a.data)], [...encodeMetadata(-8)]);
  t.same(runner.txPower, { controller: null, correction: 0, advertised: -8, source: 'config' });
  t.same(a.intervalMs, { min: 220, max: 250 }, 'the configured interval');
});

t.test('a correction past the int8 range is clamped', async (t) => {
  const { runner } = await firstAdvert(10, { txPowerCorrection: () => 30 });
  t.equal(runner.txPower.advertised, 20);
});
