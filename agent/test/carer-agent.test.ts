/**
 * The carer inside the running agent (`beepkit agent run`, config carer:),
 * real noble (the agent's radio, shared by its GATT central) and bleno (the
 * wearable) on virtual controllers: pairing over the agent's HTTP API with a
 * wrong code (aborts, nothing transferred) then the right one; a sync cut by
 * the wearable walking out of range, resumed: every record lands in the
 * wearable's outbox on the agent exactly once; /status shows labels and
 * counts only; unpair is logged on both sides.
 */
import t from 'tap';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { Outbox } from '@beepkit/device-core/outbox';
import { storageKey } from '../src/app/storage.ts';
import { carerRig, untilCarer, PASS } from './fixtures/carer-agent.ts';

const N = 60;

t.test('carer in the running agent: pair by code over the API, sync, cut, resume exactly once, unpair', { timeout: 400_000 }, async (t) => {
  const rig = await carerRig(t, 31, 23101);
  const { api, wearable } = rig;
  wearable.send({ op: 'record', n: 6 });
  await wearable.waitFor((e) => e.ev === 'recorded', 30_000, 'recorded');

  // wrong code: the user types something other than what the wearable shows
  let wm = wearable.mark();
  const started = await api('POST', '/carer/pair', { label: 'Grace' });
  t.equal(started.status, 200, JSON.stringify(started.body));
  t.match(started.body.code, /^\d{6}$/);
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code', wm);
  t.equal(started.body.code, shown.code, 'the agent and the wearable compute the same code');
  t.equal((await api('POST', '/carer/pair', {})).status, 409, 'one pairing at a time');
  wearable.send({ op: 'confirm', ok: true });
  const wrong = await api('POST', '/carer/confirm', { code: shown.code === '000000' ? '000001' : '000000' });
  t.match(wrong, { status: 403, body: { code: 'E_CODE' } });
  await wearable.waitFor((e) => e.ev === 'failed', 60_000, 'wearable aborts', wm);
  let st = (await api('GET', '/carer')).body;
  t.same(st.wearables, [], 'nothing paired, nothing transferred');
  t.equal(st.failures.E_CODE, 1);

  // right code
  wm = wearable.mark();
  const again = await api('POST', '/carer/pair', { label: 'Grace' });
  const code2 = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'code again', wm);
  wearable.send({ op: 'confirm', ok: true });
  const ok = await api('POST', '/carer/confirm', { code: code2.code });
  t.match(ok, { status: 200, body: { paired: true, label: 'Grace', delivered: 6, days: 1 } }, `code ${again.body.code}`);
  t.match(await wearable.waitFor((e) => e.ev === 'served', 30_000, 'served', wm), { kind: 'paired', sentRecords: 6, acked: 6 });

  // a sync cut by the wearable walking away, then resumed
  wearable.send({ op: 'record', n: N });
  await wearable.waitFor((e) => e.ev === 'recorded' && e.pending === N, 60_000, 'recorded N');
  wearable.send({ op: 'pace', ms: 40 }); // a slow radio: the walk away lands mid-transfer however fast this machine is
  wm = wearable.mark();
  const cutSync = api('POST', '/carer/sync', {});
  await untilCarer(rig, (s) => s.wearables[0]?.records >= 6 + 5, 90_000, 'five records in');
  rig.air.setPosition(rig.wc.id, { x: 5000, y: 0 });
  const cut = await cutSync;
  t.match(cut.body.results[0], { label: 'Grace', error: /^E_(LINK|TIMEOUT)$/ }, 'the sync was cut');
  await wearable.waitFor((e) => e.ev === 'failed' || e.ev === 'served', 60_000, 'wearable session ends', wm);
  const before = (await api('GET', '/carer')).body.wearables[0].records - 6;
  t.ok(before < N, `not everything arrived before the cut (${before})`);
  wearable.send({ op: 'pace', ms: 0 });
  rig.air.setPosition(rig.wc.id, { x: 2, y: 0 });
  const resumed = await api('POST', '/carer/sync', { wearable: 'Grace' });
  t.equal(resumed.status, 200);
  t.match(resumed.body.results[0], { label: 'Grace', delivered: N - before });

  st = (await api('GET', '/status')).body;
  t.match(st.carer, { enabled: true, pairing: 'idle', wearables: [{ label: 'Grace', records: N + 6, days: 1 }] });
  t.ok(st.carer.wearables[0].lastSyncMs > 0, 'last sync time shown');
  const text = JSON.stringify(st.carer);
  const list = (await api('GET', '/carer/wearables')).body;
  t.equal(list.length, 1);
  t.notOk(text.includes(list[0].wearableId), '/status names no wearable id');
  t.notOk(/11:22:33/i.test(text), '/status names no address');

  // unpair: the wearable is told and forgets the carer
  wm = wearable.mark();
  t.match(await api('POST', '/carer/unpair', { wearable: 'Grace' }), { status: 200, body: { unpaired: true, told: true } });
  t.match(await wearable.waitFor((e) => e.ev === 'served', 60_000, 'unpair served', wm), { kind: 'synced', sentRecords: 0 });
  t.same((await api('GET', '/carer')).body.wearables, []);
  await rig.stopAgent();
  t.ok(
    rig.out.some((l) => l.includes('carer: unpaired')),
    'the agent logged the unpair',
  );

  // every record exactly once in the wearable's outbox on the agent
  const key = await storageKey(rig.dataDir, { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const ob = new Outbox({ path: join(rig.dataDir, 'wearables', list[0].wearableId, 'outbox'), key });
  await ob.start();
  const items = ob.pending();
  await ob.stop();
  t.equal(items.length, N + 6, 'every record in the outbox');
  t.equal(new Set(items.map((i) => toHex(i.bytes))).size, N + 6, 'none twice');
});
