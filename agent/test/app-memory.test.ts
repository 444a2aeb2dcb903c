/**
 * The Agent in-process on MemoryRadio (no child process, no controller): a MemoryAir carries a venue beacon, a
 * phone's EN advert and a witness scanner. Checks that advertising starts with the day's rolling identifier from
 * the interval's address, that venue frames open a visit, that a heard EN advert becomes an encounter with the
 * RSSI turned into attenuation, that a controller reset gets the EN advert back on air, and that stop() ends it.
 * The scenario clock is fixed at 09:00 UTC of a fixed day and runs at real speed: nothing depends on the host hour.
 * (agent/test/app.test.ts keeps the agent as `beepkit agent run` on virtual controllers: GNSS, trust, spoofing.)
 */
import t from 'tap';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { decodeAdvert, encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { enIntervalNumber, formatBleAddress, intervalIds } from '@beepkit/protocol/rpi';
import { resolveConfig } from '../src/config/index.ts';
import { Agent } from '../src/app/index.ts';
import { buildEnAdvert, MemoryAir, MemoryRadio } from '@beepkit/device-core/radio';
import { heard as next } from '@beepkit/device-core/testing';

const DAY = 20_400;
const T0 = DAY * 86_400_000 + 9 * 3_600_000;
const venueId = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6);
const venueKey = new Uint8Array(32).map((_, i) => i * 7 + 1);
const CAFE = { lat: 51.5007, lon: -0.1246 };

async function until<T>(f: () => T | undefined, label: string, ms = 10_000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timeout: ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('the agent on a MemoryAir: its EN advert, a visit, an encounter, a controller reset, stop', async (t) => {
  const dir = t.testdir();
  const start = performance.now();
  const now = (): number => T0 + Math.round(performance.now() - start);
  // the phone is heard at -70 dBm, the venue beacon (and the agent, by the witness) at -50
  const air: MemoryAir = new MemoryAir({ rssi: (from: MemoryRadio): number => (from === phoneRadio ? -70 : -50), intervalMs: 20 });
  const agentRadio = new MemoryRadio({ air, now });
  const phoneRadio: MemoryRadio = new MemoryRadio({ air, scanner: false });
  const venue = new MemoryRadio({ air, scanner: false });
  const witness = new MemoryRadio({ air, advertiser: false });
  await Promise.all([phoneRadio.start(), venue.start(), witness.start()]);
  await venue.advertise(encodeVenueFrame({ venueId, slot: slotOf(now() / 1000), txPower: -4 }, venueKey), undefined, { address: 'c5:00:00:00:00:01' });
  const phoneRpi = new Uint8Array(16).fill(0x5a);
  await phoneRadio.advertise(buildEnAdvert(phoneRpi, Uint8Array.of(0x40, 0xf8, 0, 0)), undefined, { address: '15:66:77:88:99:aa' });
  await witness.startScan({ dutyCycle: 'continuous' });

  const cfg = resolveConfig(
    {
      dataDir: join(dir, 'data'),
      keystore: { passphrase: 'memory air' },
      log: { level: 'silent' },
      http: { port: 0 },
      // the targets are not opened: the Agent's radio is the injected MemoryRadio
      radio: { scanner: { hciIndex: 0 }, advertiser: { hciIndex: 0 }, dutyCycle: 'continuous', watchdogMs: 60_000 },
      venues: [{ id: toHex(venueId), key: toHex(venueKey), lat: CAFE.lat, lon: CAFE.lon, radiusM: 30 }],
      visits: { enterFrames: 3, enterWindowMs: 10_000, exitAfterMs: 60_000 },
    },
    {},
  );
  const agent = new Agent(cfg, { radio: agentRadio, clock: { now } });
  await agent.start();
  t.teardown(() => agent.stop());

  // advertising: the day's rolling identifier, from the interval's non-resolvable private address
  const [ids] = intervalIds(agent.keystore!.dayKeys(DAY).tek, enIntervalNumber(Math.floor(now() / 1000)), 1);
  const own = formatBleAddress(ids.address).toLowerCase();
  const heard = await next(witness, (e) => e.address === own, "the agent's EN advert");
  const en = decodeAdvert(heard.data);
  t.equal(en.kind, 'exposure-notification');
  t.equal(en.kind === 'exposure-notification' && toHex(en.rpi), toHex(ids.rpi), "the RPI of the day's TEK for this interval");
  t.equal(heard.addressType, 'random');
  t.equal(heard.connectable, false, 'ADV_NONCONN_IND');
  t.same(agentRadio.onAir?.intervalMs, { min: 200, max: 270 }, 'the EN interval');
  t.match(agent.status().radio, { scanner: 'poweredOn', advertiser: 'poweredOn', scanning: true, advertising: true });

  // venue frames open a visit
  const visit = await until(() => agent.visits.current().find((v) => v.venueId === toHex(venueId)), 'a visit at the venue');
  t.ok(visit.frames >= 3, `opened by ${visit.frames} frames`);
  t.same(agent.status().scan.rejects, {}, 'genuine frames are not rejected');

  // the phone's EN advert becomes an encounter, its RSSI an attenuation (AEM TX power −8 dBm, heard at −70 dBm)
  const enc = await until(() => agent.encounters.get(toHex(phoneRpi)), 'an encounter with the phone');
  t.equal(enc.aem, '40f80000');
  t.ok(enc.samples >= 1 && enc.firstSeen >= T0 && enc.lastSeen >= enc.firstSeen, `${enc.samples} samples, times on the scenario clock`);
  t.equal(enc.minAttenuation, 62, 'AEM TX power −8 dBm minus the RSSI, −70 dBm');
  t.notOk(agent.encounters.get(toHex(ids.rpi)), 'its own advert is not an encounter');

  // a controller reset drops the advert; the runner puts it back
  agentRadio.reset();
  t.equal(agentRadio.onAir, null, 'nothing on air right after the reset');
  const back = await next(witness, (e) => e.address === own, 'the EN advert back after the reset');
  t.equal(toHex(back.data), toHex(heard.data), 'the same identifier, same interval');
  t.ok(agent.status().radio.counters.resets >= 1, 'the reset counted');

  await agent.stop();
  t.equal(agentRadio.onAir, null, 'stop() ends advertising');
  t.equal(agentRadio.scanning, false, 'and scanning');
});
