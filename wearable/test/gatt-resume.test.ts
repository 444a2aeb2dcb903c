/**
 * Real noble (carer) and bleno (wearable) in child processes on the virtual
 * air: the wearable walks out of range in the middle of a sync (the link dies
 * by supervision timeout), comes back, and the resumed sync delivers every
 * record exactly once.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { Host } from '../../firmware-stubs/test/fixtures/child.ts';

const here = dirname(fileURLToPath(import.meta.url));
const hostDir = join(here, '..', '..', 'firmware-stubs', 'test', 'fixtures');
const script = (p: string) => relative(hostDir, p);
const N = 120;

t.test('link loss mid-transfer (out of range), resume: every record exactly once', async (t) => {
  const dir = t.testdir({ w: {}, c: {} });
  const air = new Air({ seed: 87, supervisionCheckMs: 20 });
  const cc = new VirtualController({ air, address: '11:22:33:44:87:01', position: { x: 0, y: 0 } });
  const wc = new VirtualController({ air, address: '11:22:33:44:87:02', position: { x: 2, y: 0 } });
  cc.start();
  wc.start();
  const wearable = new Host(script(join(here, 'fixtures', 'wearable-child.ts')), { PORT: wc.path, DIR: join(dir, 'w'), BLENO_ADVERTISING_INTERVAL: '30' });
  const carer = new Host(script(join(here, '..', '..', 'agent', 'test', 'fixtures', 'carer-child.ts')), { PORT: cc.path, DIR: join(dir, 'c') });
  t.teardown(() => {
    wearable.kill();
    carer.kill();
    cc.stop();
    wc.stop();
    air.stop();
  });
  await wearable.waitFor((e) => e.ev === 'ready', 90_000, 'wearable ready');
  await carer.waitFor((e) => e.ev === 'ready', 90_000, 'carer ready');

  // pair (nothing pending yet)
  carer.send({ op: 'pair' });
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code');
  await carer.waitFor((e) => e.ev === 'code', 60_000, 'carer code');
  wearable.send({ op: 'confirm', ok: true });
  carer.send({ op: 'code', code: shown.code });
  t.match(await carer.waitFor((e) => e.ev === 'done' || e.ev === 'failed', 90_000, 'paired'), { ev: 'done', delivered: 0 });
  await wearable.waitFor((e) => e.ev === 'served', 30_000, 'served');

  wearable.send({ op: 'record', n: N });
  await wearable.waitFor((e) => e.ev === 'recorded', 60_000, 'recorded');
  const cm = carer.mark();
  const wm = wearable.mark();
  carer.send({ op: 'sync' });
  // a few records in, the wearable walks away: the link dies by supervision timeout
  await carer.waitFor(() => carer.events.slice(cm).filter((e) => e.ev === 'record').length >= 5, 90_000, '5 records', cm);
  air.setPosition(wc.id, { x: 5000, y: 0 });
  const cut = await carer.waitFor((e) => e.ev === 'done' || e.ev === 'failed', 90_000, 'the sync ends', cm);
  const first = carer.events.slice(cm).filter((e) => e.ev === 'record').length;
  t.equal(cut.ev, 'failed', `the sync was cut (${first} of ${N} records before the cut)`);
  t.ok(first < N, 'not everything arrived before the cut');
  await wearable.waitFor((e) => e.ev === 'failed' || e.ev === 'served', 60_000, 'wearable session ends', wm);

  // back in range: resume
  air.setPosition(wc.id, { x: 2, y: 0 });
  const rm = carer.mark();
  carer.send({ op: 'sync' });
  const done = await carer.waitFor((e) => e.ev === 'done' || e.ev === 'failed', 120_000, 'resumed sync', rm);
  t.equal(done.ev, 'done', JSON.stringify(done));
  const ids = carer.events.slice(cm).filter((e) => e.ev === 'record').map((e) => e.id as string);
  t.equal(ids.length, N, 'every record delivered');
  t.equal(new Set(ids).size, N, 'none twice');
  t.equal((done.delivered as number) + first, N, `the resumed sync delivered the rest (duplicates re-acked: ${done.duplicates})`);
});
