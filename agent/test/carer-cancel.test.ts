/**
 * POST /carer/cancel really cancels (issue 20 item 7): the running agent
 * (`beepkit agent run`, its GATT central on a controller of its own:
 * carer.central) searching for a wearable that is out of range stops
 * searching (its controller's scan goes off, the state leaves "finding", the
 * pending /carer/pair answers E_ABORTED); a pairing comparing codes is aborted
 * on both sides; a pairing after that still works. On the radio's shared
 * scanner (duty-cycled) the scan lease is released.
 */
import t from 'tap';
import { carerRig, untilCarer } from './fixtures/carer-agent.ts';

t.test('cancel stops the search and aborts a comparison; pairing works afterwards', { timeout: 300_000 }, async (t) => {
  const rig = await carerRig(t, 47, 0, async (_dir, uart) => ({
    radio: { dutyCycle: 'continuous', powerOnTimeoutMs: 60_000 },
    carer: { enabled: true, central: { uart }, syncIntervalMs: 0, autoSync: false, findTimeoutMs: 120_000, sessionTimeoutMs: 15_000 },
  }));
  const { api, ac, wearable } = rig;
  t.notOk(ac.st.scanning, 'the carer controller is idle before any pairing');

  // searching for a wearable out of range
  rig.air.setPosition(rig.wc.id, { x: 5000, y: 0 });
  const searching = api('POST', '/carer/pair', { label: 'Grace' });
  await untilCarer(rig, (s) => s.pairing === 'finding' && ac.st.scanning, 90_000, 'finding, the controller scanning');
  t.match(await api('POST', '/carer/cancel', {}), { status: 200, body: { cancelled: true, pairing: 'idle' } }, 'cancelled, state idle');
  t.notOk(ac.st.scanning, 'the search stopped: the controller no longer scans');
  t.match(await searching, { status: 422, body: { code: 'E_ABORTED' } }, 'the pending pair request answers E_ABORTED');
  t.match((await api('GET', '/carer')).body, { pairing: 'idle', failures: { E_ABORTED: 1 } });
  t.match(await api('POST', '/carer/cancel', {}), { status: 200, body: { cancelled: false, pairing: 'idle' } }, 'nothing left to cancel');

  // comparing codes: cancelled on the carer's side, the wearable aborts too
  rig.air.setPosition(rig.wc.id, { x: 2, y: 0 });
  let wm = wearable.mark();
  const started = await api('POST', '/carer/pair', { label: 'Grace' });
  t.equal(started.status, 200, JSON.stringify(started.body));
  await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code', wm);
  t.equal((await api('GET', '/carer')).body.pairing, 'comparing');
  t.match(await api('POST', '/carer/cancel', {}), { status: 200, body: { cancelled: true, pairing: 'idle' } });
  wearable.send({ op: 'confirm', ok: true }); // the wearable's user accepts too late: the carer has aborted
  await wearable.waitFor((e) => e.ev === 'failed', 60_000, 'the wearable aborts', wm);
  t.match(await api('POST', '/carer/confirm', { code: started.body.code }), { status: 409, body: { code: 'E_STATE' } }, 'nothing left to confirm');
  t.same((await api('GET', '/carer')).body.wearables, [], 'nothing paired');

  // and a pairing after both cancels works
  wm = wearable.mark();
  await api('POST', '/carer/pair', { label: 'Grace' });
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code again', wm);
  wearable.send({ op: 'confirm', ok: true });
  t.match(await api('POST', '/carer/confirm', { code: shown.code }), { status: 200, body: { paired: true, label: 'Grace' } });
  t.notOk(ac.st.scanning, 'no search left running');
});

t.test('on the radio’s shared scanner: cancel releases the scan lease; pairing works afterwards', { timeout: 300_000 }, async (t) => {
  // the radio scans 1 s an hour: outside that window the controller scans only while the carer holds a lease
  const rig = await carerRig(t, 48, 0, async (_dir, uart) => ({
    radio: { scanner: { uart }, dutyCycle: { windowMs: 1000, periodMs: 3_600_000 }, powerOnTimeoutMs: 60_000 },
  }));
  const { api, ac, wearable } = rig;
  rig.air.setPosition(rig.wc.id, { x: 5000, y: 0 });
  const searching = api('POST', '/carer/pair', { label: 'Grace' });
  await untilCarer(rig, (s) => s.pairing === 'finding' && ac.st.scanning, 90_000, 'finding, the lease held');
  t.match(await api('POST', '/carer/cancel', {}), { status: 200, body: { cancelled: true, pairing: 'idle' } });
  t.match(await searching, { status: 422, body: { code: 'E_ABORTED' } });
  // a lease left held would keep the controller scanning for the rest of the hour
  await untilCarer(rig, () => !ac.st.scanning, 10_000, 'the lease released: the controller stops scanning once the radio’s window is over');
  t.notOk(ac.st.scanning, 'the lease is released: the controller no longer scans');
  t.equal((await api('GET', '/status')).body.state, 'running', 'the radio is unharmed');
  rig.air.setPosition(rig.wc.id, { x: 2, y: 0 });
  const wm = wearable.mark();
  await api('POST', '/carer/pair', { label: 'Grace' });
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code', wm);
  wearable.send({ op: 'confirm', ok: true });
  t.match(await api('POST', '/carer/confirm', { code: shown.code }), { status: 200, body: { paired: true, label: 'Grace' } });
});
