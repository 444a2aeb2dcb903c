/**
 * CA authorisation (direct, fixed clock): genuine fresh frame + consistent fix
 * → certificate; forged frame, replayed old-slot frame, fix 5 km away, stale
 * evidence, bad signature, revoked venue, rate → refused with their codes.
 */
import t from 'tap';
import { verifyCertificate } from '@beepkit/protocol/cert';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { caRequestSigningBytes, type CaRequest, type CaRequestBody } from '@beepkit/protocol/wire';
import { CertificateAuthority, loadOrCreateKeys, VenueRegistry } from '../src/ca/index.ts';
import { DAY, bytesFrom, prng, tempDir } from './gw-fixtures.ts';

const TODAY = 20_602;
const NOW = (TODAY * DAY + 12 * 3600) * 1000;

t.test('CA decisions', async (t) => {
  const tmp = tempDir('ca');
  t.teardown(tmp.remove);
  const keys = loadOrCreateKeys(tmp.dir);
  const registry = new VenueRegistry(`${tmp.dir}/venues.json`);
  const { venue, key } = registry.add({ name: 'Library', region: ['CA', 'Alameda', 'Berkeley', 'Library'], lat: 37.8723, lon: -122.2595, radiusM: 40 });
  const other = registry.add({ name: 'Closed', region: ['CA', 'Alameda', 'Berkeley', 'Closed'], lat: 37.8723, lon: -122.2595, radiusM: 40 });
  registry.revoke(other.venue.id);
  const ca = new CertificateAuthority({ ca: keys.ca, solverPublicKey: keys.solverPublicKey, solverKeyId: keys.solverKeyId, venues: registry, now: () => NOW });
  const rand = prng(3);
  const slot = slotOf(NOW / 1000);
  const frame = (o: { slot?: number; k?: Uint8Array; id?: string } = {}): Uint8Array =>
    encodeVenueFrame({ venueId: Buffer.from(o.id ?? venue.id, 'hex'), slot: o.slot ?? slot, txPower: -59 }, o.k ?? key);
  const request = (o: { frame?: Uint8Array; lat?: number; lon?: number; fixAgeMs?: number; seenAgeMs?: number; forge?: boolean } = {}): CaRequest => {
    const s = new Ed25519Signer(bytesFrom(rand, 32));
    const body: CaRequestBody = {
      gnss: {
        timeMs: NOW - (o.fixAgeMs ?? 1000),
        latE6: Math.round((o.lat ?? 37.87235) * 1e6),
        lonE6: Math.round((o.lon ?? -122.25955) * 1e6),
        accuracyCm: 500,
        mode: '3d',
        satellites: 10,
        hdopX100: 80,
      },
      venues: [{ frame: o.frame ?? frame(), rssi: -62, receivedAtMs: NOW - (o.seenAgeMs ?? 2000) }],
      day: TODAY,
      pseudonymPublicKey: s.publicKey,
      extra: new Uint8Array(0),
    };
    const sig = s.sign(caRequestSigningBytes(body));
    if (o.forge) sig[0] ^= 1;
    return { type: 'ca-request', correlationId: new Uint8Array(8), ...body, signature: sig };
  };
  const codeOf = (req: CaRequest): string => {
    const r = ca.authorise(req);
    return r.ok ? 'OK' : r.code;
  };

  const good = request();
  const r = ca.authorise(good);
  if (!r.ok) throw new Error(`refused: ${r.code} ${r.message}`);
  const cert = verifyCertificate(r.certificate, keys.caPublicKey, { now: NOW / 1000, day: TODAY, role: 'device', subject: good.pseudonymPublicKey });
  t.equal(cert.region, 'CA/Alameda/Berkeley/Library', 'region = venue region path');
  t.same([...cert.solverKeyId], [...keys.solverKeyId], 'solver key id');
  t.equal(cert.notAfter, (TODAY + 1) * DAY - 1 + 21_600, 'notAfter = the last second of the day + certGraceSec (SPEC.md §10, vectors/certificate.json)');
  t.equal(cert.notBefore, NOW / 1000 - 30, 'notBefore = issue time − maxSkew (30 s here, the class default; the gateway passes ingest.maxSkewSec, 300 s)');

  t.equal(codeOf(request({ frame: frame({ k: bytesFrom(rand, 32) }) })), 'E_TRUST_FRAME', 'forged frame (wrong key)');
  t.equal(codeOf(request({ frame: frame({ id: 'abcdefabcdef' }) })), 'E_TRUST_FRAME', 'unregistered venue');
  t.equal(codeOf(request({ frame: frame({ id: other.venue.id, k: other.key }) })), 'E_TRUST_FRAME', 'revoked venue');
  t.equal(codeOf(request({ frame: frame({ slot: slot - 10 }) })), 'E_REPLAY', 'replayed old-slot frame');
  t.equal(codeOf(request({ lat: 37.8723 + 5000 / 111_320 })), 'E_TRUST_DISTANCE', 'GNSS fix 5 km away');
  t.equal(codeOf(request({ seenAgeMs: 10 * 60_000 })), 'E_STALE', 'frame received long ago');
  t.equal(codeOf(request({ fixAgeMs: 10 * 60_000 })), 'E_STALE', 'stale GNSS fix');
  t.equal(codeOf(request({ forge: true })), 'E_SIGNATURE', 'request not signed by the pseudonym');
  t.equal(codeOf(request({ frame: Uint8Array.of(2, 1, 6) })), 'E_TRUST_FRAME', 'not a venue frame');
  const noGnss = request();
  const bodyNoGnss: CaRequestBody = { ...noGnss, gnss: null };
  const s2 = new Ed25519Signer(bytesFrom(rand, 32));
  t.equal(
    codeOf({
      ...noGnss,
      ...bodyNoGnss,
      pseudonymPublicKey: s2.publicKey,
      signature: s2.sign(caRequestSigningBytes({ ...bodyNoGnss, pseudonymPublicKey: s2.publicKey })),
    }),
    'E_TRUST_GNSS',
    'one source only',
  );
  for (let i = 0; i < 4; i++) ca.authorise(good);
  t.equal(codeOf(good), 'E_RATE', 'per-pseudonym rate limit');
});

t.test('key files are 0600 and stable; registry never lists keys', async (t) => {
  const tmp = tempDir('ca-keys');
  t.teardown(tmp.remove);
  const a = loadOrCreateKeys(tmp.dir);
  const b = loadOrCreateKeys(tmp.dir);
  t.same([...a.caPublicKey], [...b.caPublicKey], 'same CA key on the second start');
  const { statSync, chmodSync } = await import('node:fs');
  t.equal(statSync(`${tmp.dir}/keys/ca.key`).mode & 0o777, 0o600);
  t.equal(statSync(a.solverKeyFile).mode & 0o777, 0o600);
  chmodSync(`${tmp.dir}/keys/ca.key`, 0o644);
  t.throws(() => loadOrCreateKeys(tmp.dir), { code: 'E_PERMISSION' });
  const reg = new VenueRegistry(`${tmp.dir}/venues.json`);
  reg.add({ name: 'X', region: ['S', 'C'], lat: 1, lon: 2, radiusM: 10 });
  t.notOk(JSON.stringify(reg.list()).includes('key'), 'no key in list()');
  t.equal(statSync(`${tmp.dir}/venues.json`).mode & 0o777, 0o600);
  t.throws(() => reg.add({ name: 'Y', region: [], lat: 1, lon: 2, radiusM: 10 }), { code: 'E_FORMAT' });
});
