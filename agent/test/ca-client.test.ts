/**
 * CA client against real mosquitto + the real Gateway's CA: a valid exchange
 * (GNSS fix + fresh venue frame, signed by the day's pseudonym) stores a
 * certificate durably; a client configured with another CA key rejects the
 * real answer; a forged answer (certificate signed by a rogue key claiming the
 * real issuer) is rejected; a CA refusal and a timeout store nothing.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { BeepkitError, equalBytes } from '@beepkit/protocol';
import { decodeCertificate, issueCertificate, keyId } from '@beepkit/protocol/cert';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import type { WireMessage } from '@beepkit/protocol/wire';
import { CaClient, CertStore, type RequestTransport } from '../src/ca-client/index.ts';
import type { EvidenceBundle } from '../src/trust/index.ts';
import { DAY, bytesFrom, dayKeySource, deviceMqtt, mosquitto, prng, startGateway, tempDir } from './net-helpers.ts';

const NOW = (20_602 * DAY + 12 * 3600) * 1000; // fixed clock: noon UTC of day 20602
const TODAY = Math.floor(NOW / 1000 / DAY);
const DEVICE = 'agent-ca-1';

t.test(
  'CA exchange over MQTT: stored when valid, rejected when not signed by the configured CA',
  { skip: missing('mosquitto'), timeout: 60_000 },
  async (t) => {
    const tmp = tempDir('ca-client');
    t.teardown(tmp.remove);
    const broker = mosquitto(join(tmp.dir, 'mosq'), 0, [DEVICE]);
    await broker.start();
    t.teardown(() => broker.stop());
    const gw = await startGateway(join(tmp.dir, 'gw'), broker.url, 0, () => NOW);
    t.teardown(() => gw.stop());
    const { venue, key } = gw.registry.add({ name: 'Cafe', region: ['CA', 'Alameda', 'Berkeley', 'Cafe'], lat: 37.8716, lon: -122.2727, radiusM: 30 });
    const mqtt = deviceMqtt(broker.url, DEVICE, 5);
    mqtt.start();
    t.teardown(() => mqtt.stop());
    await mqtt.whenConnected();

    const keys = dayKeySource(3, TODAY - 5);
    const signer = new Ed25519Signer(keys(TODAY).signingSeed);
    const evidence = (): EvidenceBundle => ({
      time: NOW,
      gnss: { timeMs: NOW - 2000, latE6: 37871650, lonE6: -122272650, accuracyCm: 800, mode: '3d', satellites: 9, hdopX100: 90 },
      venues: [
        {
          frame: encodeVenueFrame({ venueId: Buffer.from(venue.id, 'hex'), slot: slotOf(NOW / 1000), txPower: -59 }, key),
          rssi: -60,
          receivedAtMs: NOW - 1500,
        },
      ],
      others: [],
      fused: { lat: 37.8716, lon: -122.2727, accuracyM: 8, sources: ['gnss', 'venue'] } as unknown as EvidenceBundle['fused'],
      sources: ['gnss', 'venue'],
    });

    // another CA key configured: the real answer is rejected, nothing stored
    const rogueStore = await new CertStore(join(tmp.dir, 'rogue-certs')).load();
    const wrongCa = new CaClient({ mqtt, store: rogueStore, caPublicKey: new Ed25519Signer(bytesFrom(prng(8), 32)).publicKey, now: () => NOW });
    await t.rejects(wrongCa.authorise(evidence(), signer), { code: 'E_CERT' }, 'certificate from another CA rejected');
    t.same(rogueStore.days(), [], 'nothing stored');
    t.same(wrongCa.codes, { E_CERT: 1 });

    // the configured CA: stored durably
    const store = await new CertStore(join(tmp.dir, 'certs')).load();
    const ca = new CaClient({ mqtt, store, caPublicKey: gw.keys.caPublicKey, now: () => NOW });
    const stored = await ca.authorise(evidence(), signer);
    t.equal(stored.day, TODAY);
    t.ok(equalBytes(decodeCertificate(stored.certificate).subject, keys(TODAY).pseudonym), 'certificate binds the day pseudonym');
    t.ok(equalBytes(stored.solverPublicKey, gw.keys.solverPublicKey), 'solver key delivered');
    t.ok(existsSync(join(tmp.dir, 'certs', `${TODAY}.cert`)), 'written to disk');
    const reloaded = await new CertStore(join(tmp.dir, 'certs')).load();
    t.ok(equalBytes(reloaded.get(TODAY)!, stored.certificate), 'survives a restart');
    t.equal(ca.counters.issued, 1);
  },
);

t.test('forged, refused and unanswered exchanges store nothing', async (t) => {
  const tmp = tempDir('ca-client-fake');
  t.teardown(tmp.remove);
  const caKey = new Ed25519Signer(bytesFrom(prng(1), 32));
  const rogue = new Ed25519Signer(bytesFrom(prng(2), 32));
  const keys = dayKeySource(4, TODAY - 5);
  const signer = new Ed25519Signer(keys(TODAY).signingSeed);
  const solverPublicKey = bytesFrom(prng(3), 32);
  // a certificate with the real issuer id but signed by a rogue key
  const real = issueCertificate(caKey, {
    role: 'device',
    serial: 1,
    day: TODAY,
    notBefore: TODAY * DAY,
    notAfter: (TODAY + 1) * DAY,
    subject: signer.publicKey,
    solverKeyId: keyId(solverPublicKey),
    region: 'r',
  });
  const forged = real.bytes.slice();
  forged.set(rogue.sign(new Uint8Array([1, 2, 3])), forged.length - 64);
  let answer: (m: WireMessage) => WireMessage | undefined = () => undefined;
  const mqtt: RequestTransport = {
    async request(_kind, m, timeoutMs) {
      const a = answer(m);
      if (a) return a;
      await new Promise((r) => setTimeout(r, timeoutMs));
      throw new BeepkitError('E_TIMEOUT', 'no reply');
    },
  };
  const store = await new CertStore(join(tmp.dir, 'certs')).load();
  const ca = new CaClient({ mqtt, store, caPublicKey: caKey.publicKey, now: () => NOW, timeoutMs: 50 });
  const ev = { time: NOW, gnss: null, venues: [], others: [], fused: {} as EvidenceBundle['fused'], sources: [] };
  answer = (m) => ({
    type: 'ca-response',
    correlationId: m.correlationId,
    result: { ok: true, certificate: forged, solverPublicKey, solverKeyId: keyId(solverPublicKey) },
  });
  await t.rejects(ca.authorise(ev, signer), { code: 'E_SIGNATURE' }, 'forged CA signature rejected');
  answer = (m) => ({ type: 'ca-response', correlationId: m.correlationId, result: { ok: false, code: 'E_TRUST_DISTANCE', message: 'too far' } });
  await t.rejects(ca.authorise(ev, signer), { code: 'E_TRUST_DISTANCE' }, 'CA refusal surfaces its code');
  answer = () => undefined;
  await t.rejects(ca.authorise(ev, signer), { code: 'E_TIMEOUT' }, 'no answer: timeout');
  t.same(store.days(), [], 'nothing stored');
  t.same(ca.counters, { requests: 3, issued: 0, refused: 1, rejected: 1, timeouts: 1 });
  answer = (m) => ({
    type: 'ca-response',
    correlationId: m.correlationId,
    result: { ok: true, certificate: real.bytes, solverPublicKey, solverKeyId: keyId(solverPublicKey) },
  });
  await ca.authorise(ev, signer);
  t.same(store.days(), [TODAY], 'the genuine certificate is stored');
});
