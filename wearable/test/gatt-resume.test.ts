/**
 * Real noble (carer) and bleno (wearable) in child processes on the virtual
 * air: the wearable walks out of range in the middle of a sync (the link dies
 * by supervision timeout), comes back, and the resumed sync delivers every
 * record exactly once.
 */
import t from 'tap';
import { pairRig } from './fixtures/rig.ts';

const N = 120;

t.test('link loss mid-transfer (out of range), resume: every record exactly once', async (t) => {
  const { air, wc, wearable, carer } = await pairRig(t, 87);

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
  const ids = carer.events
    .slice(cm)
    .filter((e) => e.ev === 'record')
    .map((e) => e.id as string);
  t.equal(ids.length, N, 'every record delivered');
  t.equal(new Set(ids).size, N, 'none twice');
  t.equal((done.delivered as number) + first, N, `the resumed sync delivered the rest (duplicates re-acked: ${done.duplicates})`);
});
