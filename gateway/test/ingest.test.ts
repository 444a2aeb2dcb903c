/**
 * Ingest end to end against real mosquitto: a device earns a certificate from
 * the CA (venue frame + GNSS), uploads signed batches, gets receipts whose
 * inclusion proofs verify against the signed tree head; a re-sent batch gets
 * the same receipt and adds nothing; the ledger verifies.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { equalBytes, toHex } from '@beepkit/protocol';
import { encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { decodeSth, leafHash, signingBytes, verifyInclusion } from '@beepkit/protocol/merkle';
import { ed25519Verify } from '@beepkit/protocol/crypto';
import { caRequestSigningBytes, type CaRequestBody, type Receipt } from '@beepkit/protocol/wire';
import { decodeCertificate } from '@beepkit/protocol/cert';
import { decodeBatch } from '@beepkit/protocol/tracecode';
import { Gateway } from '../src/app/gateway.ts';
import { DAY, Device, Pseudonym, gatewayConfig, mosquitto, prng, recordHash, tempDir } from './gw-helpers.ts';

const NOW = (20_602 * 86_400 + 12 * 3600) * 1000; // a fixed clock: noon UTC of day 20602
const TODAY = Math.floor(NOW / 1000 / DAY);

t.test('certificate from the CA, batches with verifiable receipts, idempotent re-send', { skip: missing('mosquitto'), timeout: 60_000 }, async (t) => {
  const tmp = tempDir('ingest');
  t.teardown(tmp.remove);
  const broker = mosquitto(`${tmp.dir}/mosq`, 0, ['device-ingest-1']);
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = new Gateway({ config: gatewayConfig(`${tmp.dir}/gw`, broker.url, 0), now: () => NOW });
  await gw.start();
  t.teardown(() => gw.stop());
  const { venue, key } = gw.registry.add({ name: 'Cafe', region: ['CA', 'Alameda', 'Berkeley', 'Cafe'], lat: 37.8716, lon: -122.2727, radiusM: 30 });
  const dev = await new Device('device-ingest-1', broker.url).start();
  t.teardown(() => dev.stop());

  const p = new Pseudonym(prng(1), TODAY);
  const body: CaRequestBody = {
    gnss: { timeMs: NOW - 2000, latE6: 37871650, lonE6: -122272650, accuracyCm: 800, mode: '3d', satellites: 9, hdopX100: 90 },
    venues: [
      { frame: encodeVenueFrame({ venueId: Buffer.from(venue.id, 'hex'), slot: slotOf(NOW / 1000), txPower: -59 }, key), rssi: -60, receivedAtMs: NOW - 1500 },
    ],
    day: TODAY,
    pseudonymPublicKey: p.publicKey,
    extra: new Uint8Array(0),
  };
  const caReply = await dev.request('ca-request', { type: 'ca-request', ...body, signature: p.signer.sign(caRequestSigningBytes(body)) });
  t.equal(caReply.type, 'ca-response');
  if (caReply.type !== 'ca-response' || !caReply.result.ok) throw new Error(`no certificate: ${JSON.stringify(caReply)}`);
  t.ok(equalBytes(caReply.result.solverPublicKey, gw.keys.solverPublicKey), 'solver public key delivered');
  p.cert = decodeCertificate(caReply.result.certificate);
  t.equal(p.cert.region, 'CA/Alameda/Berkeley/Cafe');
  t.equal(p.cert.day, TODAY);

  const batches = [p.batch([0, 1, 2]), p.batch(Array.from({ length: 20 }, (_, i) => 3 + i))];
  const receipts: Receipt[] = [];
  for (const batch of batches) {
    const r = await dev.request('uplink-batch', { type: 'upload-batch', batch });
    if (r.type !== 'receipt') throw new Error(`expected a receipt: ${JSON.stringify(r)}`);
    receipts.push(r);
    const sth = decodeSth(r.signedTreeHead);
    t.ok(ed25519Verify(gw.keys.gateway.publicKey, signingBytes(sth), sth.signature), 'STH signed by the gateway');
    t.ok(equalBytes(r.entryHash, leafHash(batch)), 'the receipt names the batch as one ledger entry');
    t.ok(verifyInclusion(leafHash(batch), r.leafIndex, sth.treeSize, r.proof, sth.rootHash), 'its one inclusion proof verifies');
  }
  const ids = batches.map((b) => decodeBatch(b).records.map(recordHash));
  t.same(
    ids.map((x) => x.length),
    [3, 20],
  );
  const stored = await gw.ledger.getByKey('tracing', ids[1][5]);
  t.ok(stored && equalBytes(stored.data, batches[1]), 'the ledger entry is exactly the batch bytes');
  t.equal(stored?.leafIndex, receipts[1].leafIndex, "found by a record hash at the receipt's leaf");

  const sizeBefore = (await gw.ledger.sth('tracing'))!.treeSize;
  const again = await dev.request('uplink-batch', { type: 'upload-batch', batch: batches[0] });
  if (again.type !== 'receipt') throw new Error('re-send must get a receipt');
  t.same(
    [toHex(again.entryHash), again.leafIndex, again.blockHeight, again.proof.map(toHex)],
    [toHex(receipts[0].entryHash), receipts[0].leafIndex, receipts[0].blockHeight, receipts[0].proof.map(toHex)],
    're-send: same receipt',
  );
  t.ok(equalBytes(again.signedTreeHead, receipts[0].signedTreeHead), 're-send: the original tree head');
  t.equal((await gw.ledger.sth('tracing'))!.treeSize, sizeBefore, 're-send added nothing');
  const entry = (await gw.ledger.getByKey('tracing', ids[0][0]))!;
  t.same(entry.keys.slice(0, 3).map(toHex), ids[0].map(toHex), 'ledger keys: the record hashes, then one claim key per record');
  t.equal(entry.keys.length, 6);
  const first = 41 + p.cert.bytes.length;
  t.equal(toHex(recordHash(batches[0].subarray(first, first + 89))), toHex(ids[0][0]), 'record hash of the first TraceCode');
  const report = await gw.ledger.verify();
  t.ok(report.ok, `ledger verify: ${report.problem ?? 'ok'}`);
  t.equal(gw.telemetry.records.get(), 23, 'records appended (the re-send not counted again)');
  t.equal(gw.telemetry.batches.get({ code: 'DUPLICATE' }), 1, 'the re-send is counted as DUPLICATE');
  t.equal(gw.telemetry.batches.get({ code: 'OK' }), 2, 'two batches appended');
});
