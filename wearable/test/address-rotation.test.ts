/**
 * The paired wearable on air (real bleno in `beepkit wearable run` on a
 * virtual controller with a manufacturer ID bleno knows no vendor command
 * for, a passive noble observer on another): its EN adverts go out as
 * ADV_NONCONN_IND from a non-resolvable private address rotated with the RPI
 * (every RPI from one address, every address with one RPI); its connectable
 * pairing advert from a resolvable private address of its carer pairing, a
 * new one each interval, never an EN address; none is the controller's own;
 * after the wearable revokes its carer, nothing it sends resolves with that IRK.
 */
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { carerIrk, resolvesTo } from '@beepkit/protocol/rpi';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { Host } from '@beepkit/firmware-stubs/testing';
import { WearableState } from '../src/state.ts';
import { root, steppingClock, WearableCli } from './fixtures/recording.ts';

const CLOCK = 0; // kernel-chosen
const DAY = 20_310;
const T0 = DAY * 86_400_000 + 9 * 3_600_000 + 60_000; // 09:01 UTC
const TEN_MIN = 600_000;
const hostDir = join(root, 'firmware-stubs', 'test', 'fixtures');

t.test('RPA rotating with the RPIs, resolvable by the carer pairing only', { timeout: 300_000 }, async (t) => {
  const dir = t.testdir();
  const clock = await steppingClock(t, CLOCK, T0);
  const air = new Air({ seed: 29, supervisionCheckMs: 20 });
  const ctl = (n: string, x: number) => {
    const c = new VirtualController({ air, address: `11:22:33:29:29:${n}`, position: { x, y: 0 } });
    c.start();
    t.teardown(() => c.stop());
    return c;
  };
  const wp = ctl('11', 0); // the wearable's peripheral (EN adverts, carer link)
  const ws = ctl('12', 0); // its scanner
  const oc = ctl('13', 2); // the observer
  const data = join(dir, 'w');
  mkdirSync(data, { mode: 0o700 });
  const pairingKey = new Uint8Array(randomBytes(32));
  const irk = carerIrk(pairingKey);
  const s = new WearableState({ dataDir: data, label: 'Grace', now: () => Math.floor(T0 / 1000) });
  await s.start();
  await s.setPairing({ pairingId: new Uint8Array(randomBytes(16)), pairingKey });
  await s.stop();

  const observer = new Host(relative(hostDir, join(root, 'wearable', 'test', 'fixtures', 'observer-child.ts')), { PORT: oc.path });
  t.teardown(() => observer.kill());
  await observer.waitFor((e) => e.ev === 'ready', 90_000, 'observer');
  const args = ['run', '--data-dir', data, '--label', 'Grace', '--uart', wp.path, '--scan-uart', ws.path, '--clock-url', clock.url];
  let w = new WearableCli(t, args);
  t.teardown(() => w.kill());
  await w.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready');

  const pairingAdverts = () => observer.events.filter((e) => e.ev === 'pairing');
  const pairs: { address: string; rpi: string }[] = [];
  const nextRpi = async (label: string): Promise<{ address: string; rpi: string }> => {
    const known = new Set(pairs.map((p) => p.rpi));
    const e = await observer.next((x) => x.ev === 'en' && !known.has(x.rpi), 60_000, label);
    const p = { address: String(e.address), rpi: String(e.rpi) };
    pairs.push(p);
    return p;
  };
  const first = await nextRpi('the first EN advert');
  clock.set(T0 + TEN_MIN);
  const second = await nextRpi("the next interval's RPI");
  clock.set(T0 + 2 * TEN_MIN);
  const third = await nextRpi('a third RPI');
  for (const p of [first, second, third]) {
    t.equal(parseInt(p.address.slice(0, 2), 16) >> 6, 0, `${p.address}: non-resolvable private (top bits 00)`);
    t.notOk(resolvesTo(irk, p.address), 'the EN address does not resolve with the pairing IRK');
    t.not(p.address, wp.id.toLowerCase(), "not the controller's own address");
  }
  t.equal(new Set([first.address, second.address, third.address]).size, 3, 'a new address at every rotation');
  t.ok(
    observer.events.filter((e) => e.ev === 'en').every((e) => e.connectable === false && e.addressType === 'random'),
    'EN adverts: ADV_NONCONN_IND, random address',
  );
  await observer.waitFor((e) => e.ev === 'pairing' && resolvesTo(irk, String(e.address)), 30_000, 'a pairing advert');
  const enAddrs = new Set(observer.events.filter((e) => e.ev === 'en').map((e) => e.address));
  t.ok(
    pairingAdverts().every((e) => resolvesTo(irk, String(e.address)) && e.connectable === true && !enAddrs.has(e.address)),
    'pairing adverts: connectable, from RPAs of the pairing, never an EN address',
  );
  // lockstep: no RPI was ever heard from two addresses, no address carried two RPIs
  const all = observer.events.filter((e) => e.ev === 'en');
  const byRpi = new Map<string, Set<string>>();
  const byAddr = new Map<string, Set<string>>();
  for (const e of all) {
    byRpi.set(e.rpi, (byRpi.get(e.rpi) ?? new Set()).add(e.address));
    byAddr.set(e.address, (byAddr.get(e.address) ?? new Set()).add(e.rpi));
  }
  t.ok(
    [...byRpi.values()].every((a) => a.size === 1),
    'every RPI from one address',
  );
  t.ok(
    [...byAddr.values()].every((r) => r.size === 1),
    'every address with one RPI',
  );

  // revocation: the pairing is gone, the addresses are the EN ones, the old IRK resolves none
  t.equal(await w.stop(), 0, 'the wearable stops cleanly');
  const revoke = new WearableCli(t, ['revoke-carer', '--data-dir', data, '--clock-url', clock.url]);
  t.equal(await revoke.exited, 0, 'revoke-carer');
  clock.set(T0 + 3 * TEN_MIN);
  w = new WearableCli(t, args);
  await w.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready again');
  const mark = pairingAdverts().length;
  const after = await nextRpi('an RPI after the revocation');
  t.notOk(resolvesTo(irk, after.address), 'after revocation the old IRK resolves nothing');
  t.ok(
    pairingAdverts()
      .slice(mark)
      .every((e) => !resolvesTo(irk, String(e.address))),
    'no pairing advert from an address of the revoked pairing',
  );
  t.equal(await w.stop(), 0);
});
