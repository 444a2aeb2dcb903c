/**
 * The wearable's own Bluetooth encounters reach its carer and are matched
 * there. Real noble/bleno on virtual controllers: the wearable (`beepkit
 * wearable run --scan-uart`, stepped scenario clock, no GNSS) hears an EN peer
 * for minutes; a running carer agent (`beepkit agent run`, carer: enabled, on a
 * Gateway's embedded broker) syncs it twice while the encounter grows: it
 * holds one encounter (the newest copy), sealed in the wearable's dir. The
 * gateway then publishes a block with a TEK the wearable never heard (no
 * alert), then one with the peer's TEK: one alert naming the person. /carer
 * and /status show counts only; an unpair deletes the encounters.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { toHex } from '@beepkit/protocol/bytes';
import { hkdf } from '@beepkit/protocol/crypto';
import { intervalIds } from '@beepkit/protocol/rpi';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import type { Gateway } from '@beepkit/gateway/app';
import { loadEncounters, type Encounter } from '@beepkit/device-core/encounters';
import { readKeyFile } from '@beepkit/device-core/keys';
import { CarerStore } from '../src/carer/index.ts';
import { storageKey } from '../src/app/storage.ts';
import { carerGateway, carerRig, pairWearableCli, untilCarer, PASS } from './fixtures/carer-agent.ts';
import { advertiser, steppingClock, WearableCli } from '@beepkit/wearable/testing';
import { hostNow } from '@beepkit/protocol/clock';

const CLOCK = 0; // kernel-chosen ports
const HTTP = 0;
const BROKER = 0;
const DEVICE = 'carer-radio-encounters-1';
const DAY = 20_300;
const T0 = DAY * 86_400_000 + 10 * 3_600_000 + 60_000; // 10:01 UTC
const MINUTE = 60_000;

t.test('the wearable’s EN encounter reaches the carer once across two syncs and an endorsed TEK alerts naming the person', { timeout: 500_000 }, async (t) => {
  const clock = await steppingClock(t, CLOCK, T0);
  let gw!: Gateway;
  const rig = await carerRig(t, 43, HTTP, async (dir) => {
    const g = await carerGateway(t, dir, BROKER, DEVICE);
    gw = g.gw;
    return { clock: { url: clock.url }, ...g.config };
  });
  const dir = join(rig.dataDir, '..', '..');
  const wdir = join(dir, 'grace');
  mkdirSync(wdir);
  const ctl = (n: string, x: number, y: number) => {
    const c = new VirtualController({ air: rig.air, address: `11:22:33:43:43:${n}`, position: { x, y } });
    c.start();
    t.teardown(() => c.stop());
    return c;
  };
  const wp = ctl('11', 0, 3); // the wearable's peripheral
  const ws = ctl('12', 0, 3); // the wearable's scanner
  const pc = ctl('14', 1, 4); // an EN peer, later diagnosed

  const args = ['--data-dir', wdir, '--label', 'Grace', '--uart', wp.path, '--scan-uart', ws.path, '--clock-url', clock.url];
  const p = await pairWearableCli(t, rig, args, 'Grace');
  t.match(p.confirmed, { status: 200, body: { paired: true, label: 'Grace' } }, JSON.stringify(p.confirmed.body));
  t.equal(p.exited, 0, 'pair mode ends once paired');

  // the peer advertises its RPI of the interval; the wearable records
  const tek = new Uint8Array(16).fill(9);
  const [ids] = intervalIds(tek, Math.floor(T0 / 600_000), 1);
  const rpi = toHex(ids.rpi);
  const peer = advertiser(t, pc.path);
  await peer.waitFor((e) => e.ev === 'ready', 90_000, 'peer');
  peer.send({ op: 'en', rpi, aem: toHex(ids.aem) });
  await peer.waitFor((e) => e.ev === 'done', 30_000, 'peer on');
  const run = new WearableCli(t, ['run', ...args]);
  await run.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (run)');
  await run.waitFor((l) => l.msg === 'wearable: recording', 60_000, 'recording');

  // the wearable's encounter log as it saves it (every scenario minute at speed 60: every real second)
  const logKey = hkdf(await readKeyFile(join(wdir, 'wearable.key')), undefined, 'beepkit/v1/wearable/logs', 32);
  const heardUntil = async (at: number): Promise<Encounter> => {
    const end = hostNow() + 60_000;
    for (;;) {
      const e = (await loadEncounters(join(wdir, 'encounters.bin'), logKey).catch(() => undefined))?.get(rpi);
      if (e && e.lastSeen >= at) return e;
      if (hostNow() > end) throw new Error(`the wearable did not hear the peer at ${at} (${JSON.stringify(e && { lastSeen: e.lastSeen })})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Moves the scenario clock a minute at a time, each minute heard by the wearable. */
  const walk = async (from: number, minutes: number) => {
    for (let i = 1; i <= minutes; i++) {
      clock.set(from + i * MINUTE);
      await heardUntil(from + i * MINUTE);
    }
  };
  await heardUntil(T0);
  await walk(T0, 4);

  // first sync while the peer is still heard
  const s1 = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(s1, { status: 200, body: { results: [{ label: 'Grace', encounters: 1 }] } }, JSON.stringify(s1.body));
  await untilCarer(rig, (s) => s.wearables[0]?.encounters === 1, 30_000, 'one encounter at the carer');

  // the encounter grows; the second sync supersedes the carer's copy
  await walk(T0 + 4 * MINUTE, 6);
  const grown = await heardUntil(T0 + 10 * MINUTE);
  const s2 = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(s2, { status: 200, body: { results: [{ label: 'Grace', encounters: 1 }] } }, JSON.stringify(s2.body));
  const st = (await rig.api('GET', '/status')).body;
  t.match(st.carer.wearables, [{ label: 'Grace', encounters: 1 }], 'one encounter held: the newest copy superseded the first');
  t.notOk(JSON.stringify(st.carer).includes(rpi), '/status carries no RPI');
  t.notOk(JSON.stringify((await rig.api('GET', '/carer')).body).includes(rpi), '/carer carries no RPI');

  // notifications: a TEK the wearable never heard, then the peer's (endorsed after its diagnosis)
  const rollingStart = DAY * 144;
  const tekEntry = (k: Uint8Array) => encodeNotificationEntry({ type: 'tek', tek: k, rollingStart, period: 144 });
  const alertLines = () => rig.out.filter((l) => l.includes('Grace spent'));
  await gw.publishNotification([tekEntry(new Uint8Array(16).fill(1))]);
  await gw.publishNotification([tekEntry(new Uint8Array(16).fill(2)), tekEntry(tek)]);
  const end = hostNow() + 60_000;
  while (!alertLines().length && hostNow() < end) await new Promise((r) => setTimeout(r, 100));
  t.equal(alertLines().length, 1, 'one alert naming the person (the block of strangers before it raised none)');
  t.match(alertLines()[0], /Grace: On .* Grace spent about \d+ minutes within roughly \d+ m of someone who later tested positive/);
  t.notOk(
    rig.out.some((l) => l.includes(rpi)),
    'the agent never logs the RPI',
  );
  t.notOk(
    run.raw.some((l) => l.includes(rpi)),
    'the wearable never logs the RPI',
  );
  await run.stop();

  // the carer holds it sealed in the wearable's dir: the newest copy
  const list = (await rig.api('GET', '/carer/wearables')).body as { wearableId: string; encounters: number }[];
  t.equal(list[0].encounters, 1, 'GET /carer/wearables counts the encounter held');
  const file = join(rig.dataDir, 'wearables', list[0].wearableId, 'encounters.bin');
  t.equal(statSync(file).mode & 0o777, 0o600);
  const key = await storageKey(rig.dataDir, { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const store = await new CarerStore({ path: join(rig.dataDir, 'carer.bks'), key }).load();
  const held = store.encounters.list(list[0].wearableId);
  t.equal(held.length, 1);
  t.equal(held[0].rpi, rpi);
  t.ok(held[0].lastSeen >= grown.lastSeen, 'the grown copy');

  // unpair (the wearable is gone: offline) deletes them
  t.match(await rig.api('POST', '/carer/unpair', { wearable: 'Grace', offline: true }), { status: 200, body: { unpaired: true } });
  t.notOk(existsSync(file), 'unpair deleted the encounters');
  await rig.stopAgent();
});
