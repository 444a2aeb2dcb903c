/**
 * Real noble (carer) and bleno (wearable) in child processes on the virtual
 * air: a wrong code aborts with nothing transferred; the right code pairs and
 * syncs the day keys and records over GATT.
 */
import t from 'tap';
import { pairRig } from './fixtures/rig.ts';

t.test('pairing over GATT: wrong code aborts, right code pairs and syncs', async (t) => {
  const { wearable, carer } = await pairRig(t, 82);
  wearable.send({ op: 'record', n: 6 });
  await wearable.waitFor((e) => e.ev === 'recorded', 30_000, 'recorded');

  carer.send({ op: 'pair' });
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code');
  const carerCode = await carer.waitFor((e) => e.ev === 'code', 60_000, 'carer code');
  t.equal(carerCode.code, shown.code, 'both sides show the same code');
  wearable.send({ op: 'confirm', ok: true });
  carer.send({ op: 'code', code: shown.code === '000000' ? '000001' : '000000' }); // the user types a wrong code
  t.match(await carer.waitFor((e) => e.ev === 'failed', 60_000, 'carer aborts'), { code: 'E_CODE' });
  await wearable.waitFor((e) => e.ev === 'failed', 60_000, 'wearable aborts');
  t.equal(
    carer.count((e) => e.ev === 'record'),
    0,
    'nothing transferred',
  );

  const [cm, wm] = [carer.mark(), wearable.mark()];
  carer.send({ op: 'pair' });
  const code2 = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'code again', wm);
  await carer.waitFor((e) => e.ev === 'code', 60_000, 'carer code again', cm);
  wearable.send({ op: 'confirm', ok: true });
  carer.send({ op: 'code', code: code2.code });
  const done = await carer.waitFor((e) => e.ev === 'done' || e.ev === 'failed', 90_000, 'paired', cm);
  t.match(done, { ev: 'done', label: 'Rose', delivered: 6, duplicates: 0, days: 1 });
  t.match(await wearable.waitFor((e) => e.ev === 'served', 30_000, 'served', wm), { kind: 'paired', sentRecords: 6, acked: 6 });
  t.equal(new Set(carer.events.filter((e) => e.ev === 'record').map((e) => e.id)).size, 6);
});
