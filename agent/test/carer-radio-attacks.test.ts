/**
 * Radio-level attacks on carer pairing (real noble/bleno on virtual
 * controllers; the carer is a running agent driven over its HTTP API, the
 * wearable a bleno child): a relay with its own central towards the wearable
 * and its own peripheral towards the carer, substituting its X25519 keys on
 * both legs — the two codes differ, the users' confirmations fail, nothing is
 * transferred on either side; then a transparent relay records the GATT
 * writes of a successful sync and replays them to the wearable later: the
 * wearable aborts, nothing is transferred, and the genuine carer still syncs.
 */
import t from 'tap';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { Host } from '@beepkit/firmware-stubs/testing';
import { carerRig, untilCarer } from './fixtures/carer-agent.ts';

const HTTP = 0; // kernel-chosen
const here = dirname(fileURLToPath(import.meta.url));
const hostDir = join(here, '..', '..', 'firmware-stubs', 'test', 'fixtures');
const relayScript = relative(hostDir, join(here, '..', '..', 'wearable', 'test', 'fixtures', 'relay-child.ts'));

t.test('man in the middle over the air, then a replayed session', { timeout: 300_000 }, async (t) => {
  const rig = await carerRig(t, 42, HTTP);
  const { api, wearable, air } = rig;
  const ctl = (n: string, x: number, y: number) => {
    const c = new VirtualController({ air, address: `11:22:33:42:42:${n}`, position: { x, y } });
    c.start();
    t.teardown(() => c.stop());
    return c;
  };
  const relay = (mode: 'mitm' | 'transparent', p: VirtualController, c: VirtualController) => {
    const h = new Host(relayScript, { PERIPH_PORT: p.path, CENTRAL_PORT: c.path, WEARABLE: rig.wc.id, MODE: mode, BLENO_ADVERTISING_INTERVAL: '30' });
    t.teardown(() => h.kill());
    return h;
  };
  const status = async () => {
    const m = wearable.mark();
    wearable.send({ op: 'status' });
    return wearable.waitFor((e) => e.ev === 'status', 10_000, 'wearable status', m);
  };
  wearable.send({ op: 'record', n: 3 });
  await wearable.waitFor((e) => e.ev === 'recorded', 30_000, 'recorded');

  // 1. man in the middle: the carer connects to the relay's peripheral, the relay's central to the wearable
  const mitm = relay('mitm', ctl('21', 0, 2), ctl('22', 1, 1));
  await mitm.waitFor((e) => e.ev === 'ready', 90_000, 'relay ready');
  let wm = wearable.mark();
  const started = await api('POST', '/carer/pair', { label: 'Grace', address: '11:22:33:42:42:21' });
  t.equal(started.status, 200, JSON.stringify(started.body));
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code', wm);
  const legs = Object.fromEntries(
    (await Promise.all(['wearable', 'carer'].map((leg) => mitm.waitFor((e) => e.ev === 'code' && e.leg === leg, 60_000, `${leg} leg code`)))).map((e) => [
      e.leg,
      e.code,
    ]),
  );
  t.equal(legs.carer, started.body.code, 'the carer shows the code of its leg with the relay');
  t.equal(legs.wearable, shown.code, 'the wearable shows the code of its leg with the relay');
  t.not(started.body.code, shown.code, 'the two codes differ');
  // the users compare: the carer types what the wearable shows, the wearable's user sees another code on the carer
  t.match(await api('POST', '/carer/confirm', { code: shown.code }), { status: 403, body: { code: 'E_CODE' } });
  wearable.send({ op: 'confirm', ok: false });
  t.match(await wearable.waitFor((e) => e.ev === 'failed', 60_000, 'wearable aborts', wm), { code: 'E_CODE' });
  t.same((await api('GET', '/carer')).body.wearables, [], 'the carer holds nothing');
  t.match(await status(), { pending: 3, paired: false }, 'the wearable kept its records and paired with nobody');
  t.equal(
    wearable.count((e) => e.ev === 'served'),
    0,
    'no session was served',
  );
  mitm.kill();

  // 2. a transparent relay pairs and syncs genuinely, recording the carer's writes
  const tap = relay('transparent', ctl('31', 0, 2), ctl('32', 1, 1));
  await tap.waitFor((e) => e.ev === 'ready', 90_000, 'recording relay ready');
  wm = wearable.mark();
  const p2 = await api('POST', '/carer/pair', { label: 'Grace', address: '11:22:33:42:42:31' });
  const code2 = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'code through the relay', wm);
  t.equal(p2.body.code, code2.code, 'a relay that only forwards changes nothing: same code');
  wearable.send({ op: 'confirm', ok: true });
  t.match(await api('POST', '/carer/confirm', { code: code2.code }), { status: 200, body: { paired: true, delivered: 3 } });
  await tap.waitFor((e) => e.ev === 'session' && e.session === 0, 30_000, 'pairing session recorded');
  wearable.send({ op: 'record', n: 2 });
  await wearable.waitFor((e) => e.ev === 'recorded' && e.pending === 2, 30_000, 'recorded 2');
  t.match(await api('POST', '/carer/sync', { wearable: 'Grace' }), { status: 200, body: { results: [{ delivered: 2 }] } });
  const rec = await tap.waitFor((e) => e.ev === 'session' && e.session === 1, 30_000, 'sync session recorded');
  t.equal(rec.types[0], 'resume', `the recorded sync: ${rec.types.join(', ')}`);
  t.ok(rec.types.length >= 4, 'resume, confirm, sync request and acks recorded');

  // later: the relay replays the recorded sync to the wearable
  wearable.send({ op: 'record', n: 4 });
  await wearable.waitFor((e) => e.ev === 'recorded' && e.pending === 4, 30_000, 'recorded 4');
  wm = wearable.mark();
  tap.send({ op: 'replay', session: 1 });
  const failed = await wearable.waitFor((e) => e.ev === 'failed' || e.ev === 'served', 60_000, 'the replayed session ends', wm);
  t.equal(failed.ev, 'failed', `the wearable aborts the replay (${failed.code})`);
  t.equal(failed.code, 'E_DENIED', 'refused as a stranger is (the recorded confirm does not open under the fresh reply)');
  const replayed = await tap.waitFor((e) => e.ev === 'replayed', 60_000, 'replay done');
  t.notOk(
    (replayed.received as string[]).includes('sealed'),
    `the wearable sent nothing sealed to the replayer (${(replayed.received as string[]).join(', ')})`,
  );
  t.match(await status(), { pending: 4, paired: true }, 'nothing left the wearable');
  t.equal((await api('GET', '/carer')).body.wearables[0].records, 5, 'the carer got nothing new');

  // the genuine carer still syncs everything
  t.match(await api('POST', '/carer/sync', { wearable: 'Grace' }), { status: 200, body: { results: [{ delivered: 4 }] } });
  await untilCarer(rig, (s) => s.wearables[0]?.records === 9, 30_000, 'nine records');
  t.match(await status(), { pending: 0 });
});
