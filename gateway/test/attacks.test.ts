/**
 * Attacks through real mosquitto: each is refused with its code and nothing
 * reaches the ledger (tree size unchanged); a replay is idempotent; a device
 * publishing on another device's topic is stopped by the broker ACL.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { topics } from '@beepkit/protocol/wire';
import { Gateway } from '../src/app/gateway.ts';
import { DAY, Device, Pseudonym, bytesFrom, gatewayConfig, mosquitto, prng, tempDir, uploadPayload } from './gw-helpers.ts';

const TODAY = 20_602;
const NOW = (TODAY * DAY + 12 * 3600) * 1000;

t.test('attacks are refused with their codes; the ledger is untouched', { skip: missing('mosquitto'), timeout: 60_000 }, async (t) => {
  const tmp = tempDir('attacks');
  t.teardown(tmp.remove);
  const broker = mosquitto(`${tmp.dir}/mosq`, 0, ['device-attack-1', 'device-attack-2']);
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = new Gateway({ config: gatewayConfig(`${tmp.dir}/gw`, broker.url, 0), now: () => NOW });
  await gw.start();
  t.teardown(() => gw.stop());
  const dev = await new Device('device-attack-1', broker.url).start();
  t.teardown(() => dev.stop());
  const rand = prng(7);
  const ok = new Pseudonym(rand, TODAY).certify(gw.keys.ca);
  const genuine = ok.batch([0, 1, 2]);
  const first = await dev.request('uplink-batch', { type: 'upload-batch', batch: genuine });
  t.equal(first.type, 'receipt', 'a genuine batch lands');
  const size = async (): Promise<number> => (await gw.ledger.sth('tracing'))!.treeSize;
  const size0 = await size();

  const forged = ok.batch([5, 6]);
  forged[forged.length - 1] ^= 0x01;
  const otherDay = new Pseudonym(rand, TODAY).certify(gw.keys.ca, { day: TODAY - 1, notAfter: NOW / 1000 + 3600 });
  const expired = new Pseudonym(rand, TODAY).certify(gw.keys.ca, { notBefore: TODAY * DAY, notAfter: NOW / 1000 - 60 });
  const otherCa = new Pseudonym(rand, TODAY).certify(new Ed25519Signer(bytesFrom(rand, 32)));
  const diag = new Pseudonym(rand, TODAY).certify(gw.keys.ca, { role: 'diagnostician' });
  const cases: [string, Uint8Array, string][] = [
    ['forged signature', forged, 'E_SIGNATURE'],
    ['certificate of another day', otherDay.batch([1], { day: TODAY }), 'E_CERT'],
    ['expired certificate', expired.batch([1]), 'E_EXPIRED'],
    ['certificate from another CA', otherCa.batch([1]), 'E_CERT'],
    ['certificate of another role', diag.batch([1]), 'E_CERT'],
    ['interval in the future', ok.batch([40]), 'E_WINDOW'],
    ['interval outside the day', ok.batch([48]), 'E_WINDOW'],
    ['batch day in the future', new Pseudonym(rand, TODAY + 2).certify(gw.keys.ca, { day: TODAY + 2, notBefore: 0 }).batch([0]), 'E_WINDOW'],
  ];
  for (const [name, batch, code] of cases) {
    const r = await dev.request('uplink-batch', { type: 'upload-batch', batch });
    t.equal(r.type === 'error' ? r.code : r.type, code, name);
  }
  const junk = await dev.request('uplink-batch', { type: 'catchup-request', chain: 'tracing', fromHeight: 0, maxBlocks: 1 });
  t.equal(junk.type === 'error' ? junk.code : junk.type, 'E_TYPE', 'wrong message type on the batch topic');
  t.equal(await size(), size0, 'nothing appended');
  t.equal(gw.telemetry.rejects.get({ code: 'E_CERT' }), 3, 'rejects counted by code');

  const replay = await dev.request('uplink-batch', { type: 'upload-batch', batch: genuine });
  t.same(replay, { ...first, correlationId: replay.correlationId }, 'replay: the same receipt');
  t.equal(await size(), size0, 'replay: no duplicate entry');

  // device 2 publishes a genuine batch on device 1's topic: the ACL drops it
  const intruder = await new Device('device-attack-2', broker.url).start();
  t.teardown(() => intruder.stop());
  const handled = gw.telemetry.requests.get({ kind: 'uplink-batch' });
  await intruder.mqtt.publish(topics.uplinkBatch('device-attack-1'), uploadPayload(ok.batch([7]), 77), { qos: 1 });
  const own = await intruder.request('uplink-batch', { type: 'upload-batch', batch: ok.batch([8]) });
  t.equal(own.type, 'receipt', 'its own topic works');
  t.equal(gw.telemetry.requests.get({ kind: 'uplink-batch' }), handled + 1, 'the message on the foreign topic never reached the gateway');
  t.equal(await size(), size0 + 1, 'only the batch on its own topic landed');
  t.notOk(
    dev.replies.some((r) => r.correlationId[7] === 77),
    'device 1 got no reply for it',
  );
});
