/**
 * The wearable records on its own, offline and without GNSS (`beepkit wearable
 * run --scan-uart`, real noble scanner on a second virtual controller, real
 * bleno peripheral), following a stepped scenario clock: near a café beacon and
 * an EN peer it logs a visit and an encounter and seals the stay into its
 * outbox as a venue-only TraceCode; a running carer agent (pairing by code
 * over its HTTP API with the wearable advertising its EN identifiers and the
 * pairing service in the scan response) syncs it into its wearable outbox, and
 * the solver opens it to the café's venue id, no position.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { X25519Key } from '@beepkit/protocol/crypto';
import { encodeVenueFrame, slotOf, venueId8 } from '@beepkit/protocol/frames';
import { Level, Source } from '@beepkit/protocol/geodata';
import { intervalIds } from '@beepkit/protocol/rpi';
import { openTraceCode } from '@beepkit/protocol/tracecode';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { Outbox } from '@beepkit/device-core/outbox';
import { CarerStore } from '../src/carer/index.ts';
import { storageKey } from '../src/app/storage.ts';
import { carerRig, pairWearableCli, untilCarer, PASS } from './fixtures/carer-agent.ts';
import { advertiser, steppingClock, wearableStatus, WearableCli } from '@beepkit/wearable/testing';

const CLOCK = 0; // kernel-chosen ports
const HTTP = 0;
const DAY = 20_300;
const T0 = DAY * 86_400_000 + 10 * 3_600_000 + 60_000; // 10:01 UTC

t.test('the wearable records a visit and an encounter offline, the carer syncs the sealed stay', { timeout: 400_000 }, async (t) => {
  const clock = await steppingClock(t, CLOCK, T0);
  const rig = await carerRig(t, 41, HTTP, { clock: { url: clock.url } });
  const dir = join(rig.dataDir, '..', '..'); // the rig's test dir (its own wearable child uses w/)
  mkdirSync(join(dir, 'grace'));
  const ctl = (n: string, x: number, y: number) => {
    const c = new VirtualController({ air: rig.air, address: `11:22:33:41:41:${n}`, position: { x, y } });
    c.start();
    t.teardown(() => c.stop());
    return c;
  };
  const wp = ctl('11', 0, 3); // the wearable's peripheral (carer link, EN advertising)
  const ws = ctl('12', 0, 3); // the wearable's scanner
  const bc = ctl('13', 0, 6); // the café beacon
  const pc = ctl('14', 1, 4); // an EN peer
  const solverPriv = new Uint8Array(randomBytes(32));
  const solver = new X25519Key(solverPriv);
  const venueKey = new Uint8Array(32).fill(7);
  const venueId = fromHex('c0ffee000041');

  // pairing mode (records already): the carer finds it by the pairing service in the scan response
  const args = [
    '--data-dir',
    join(dir, 'grace'),
    '--label',
    'Grace',
    '--uart',
    wp.path,
    '--scan-uart',
    ws.path,
    '--clock-url',
    clock.url,
    '--solver-key',
    toHex(solver.publicKey),
  ];
  const p = await pairWearableCli(t, rig, args, 'Grace');
  t.equal(p.shown, p.code, 'the wearable shows the code the carer shows');
  t.match(p.confirmed, { status: 200, body: { paired: true, label: 'Grace', days: 1, delivered: 0 } }, JSON.stringify(p.confirmed.body));
  t.equal(p.exited, 0, 'pair mode ends once paired');

  // recording: beacon and EN peer on the air
  const beacon = advertiser(t, bc.path);
  const peer = advertiser(t, pc.path);
  await Promise.all([beacon.waitFor((e) => e.ev === 'ready', 90_000, 'beacon'), peer.waitFor((e) => e.ev === 'ready', 90_000, 'peer')]);
  const frame = encodeVenueFrame({ venueId, slot: slotOf(T0 / 1000), txPower: -10 }, venueKey);
  beacon.send({ op: 'adv', hex: toHex(frame) });
  const [ids] = intervalIds(new Uint8Array(16).fill(9), Math.floor(T0 / 600_000), 1);
  peer.send({ op: 'en', rpi: toHex(ids.rpi), aem: toHex(ids.aem) });
  await Promise.all([beacon.waitFor((e) => e.ev === 'done', 30_000, 'beacon on'), peer.waitFor((e) => e.ev === 'done', 30_000, 'peer on')]);

  const run = new WearableCli(t, ['run', ...args]);
  await run.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (run)');
  t.match(await run.waitFor((l) => l.msg === 'wearable: venue visit', 60_000, 'visit entered'), { type: 'enter' });
  t.equal(run.logs.filter((l) => l.msg === 'wearable: recording').length, 1, 'recording announced');
  // a publish tick at T0 opens the stay; then the beacon goes quiet and an hour passes: the stay is sealed (gap)
  await new Promise((r) => setTimeout(r, 3_000)); // several publish ticks (every 500 ms at speed 60) at T0
  beacon.send({ op: 'off' });
  await beacon.waitFor((e) => e.ev === 'done' && e.op === 'off', 30_000, 'beacon off');
  clock.set(T0 + 61 * 60_000);
  t.match(await run.waitFor((l) => l.msg === 'wearable: venue visit' && l.type === 'exit', 60_000, 'visit exit'), { type: 'exit' });
  t.match(await run.waitFor((l) => l.msg === 'wearable: stay sealed into the outbox', 60_000, 'stay sealed'), { day: DAY, pending: 1 });
  t.equal(await run.stop(), 0, 'the wearable stops cleanly');

  const st = await wearableStatus(join(dir, 'grace'));
  t.match(st, { label: 'Grace', paired: true, pending: 1, visits: 1, solverKey: true }, JSON.stringify(st));
  t.equal(st.encounters, 1, 'the EN peer was logged as an encounter (its own identifiers are not)');

  // the carer syncs: the record lands in its wearable outbox
  const run2 = new WearableCli(t, ['run', ...args]);
  await run2.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (run again)');
  const synced = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(synced, { status: 200, body: { results: [{ label: 'Grace', delivered: 1 }] } }, JSON.stringify(synced.body));
  await untilCarer(rig, (s) => s.wearables[0]?.records === 1, 30_000, 'one record at the carer');
  await run2.stop();
  await rig.stopAgent();
  t.equal((await wearableStatus(join(dir, 'grace'))).pending, 0, 'acknowledged records leave the wearable');

  const key = await storageKey(rig.dataDir, { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const store = await new CarerStore({ path: join(rig.dataDir, 'carer.bks'), key }).load();
  const w = store.list()[0];
  const ob = new Outbox({ path: join(rig.dataDir, 'wearables', w.wearableId, 'outbox'), key });
  await ob.start();
  const items = ob.pending();
  await ob.stop();
  t.equal(items.length, 1, 'the sealed stay is in the carer’s wearable outbox');
  t.equal(items[0].group, DAY);
  const day = w.days.find((d) => d.day === DAY)!;
  const g = openTraceCode(solverPriv, items[0].bytes, fromHex(day.ephemeralPub));
  t.equal(g.level, Level.venue, 'venue-only geodata');
  t.equal(toHex(g.venue!), toHex(venueId8(venueId)), 'the café');
  t.same([g.lat, g.lon, g.sources], [0, 0, Source.beacon], 'no position, source beacon');
  t.ok(g.start >= Math.floor(T0 / 1000) - 1 && g.end <= Math.floor(T0 / 1000) + 1, 'the stay window is when the café was heard');
});
