import t from 'tap';
import { Ed25519Signer, ed25519Verify } from '@beepkit/protocol/crypto';
import { caRequestSigningBytes } from '@beepkit/protocol/wire';
import { toHex } from '@beepkit/protocol/bytes';
import { encodeAdvert, encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { MapVenueRegistry, ScanPipeline, type VenueObservation } from '@beepkit/device-core/scan';
import { EncounterLog } from '@beepkit/device-core/encounters';
import {
  crossVerify,
  buildCaRequest,
  TrustMachine,
  TRUST_TRANSITIONS_KEPT,
  distanceM,
  offsetM,
  fuse,
  type GnssFixLike,
  type TrustVerdict,
} from '../src/trust/index.ts';

const T0 = 1_700_000_000_000;
const CAFE = { lat: 52.52, lon: 13.405 };
const registry = new MapVenueRegistry([{ id: '010203040506', key: new Uint8Array(32), ...CAFE, radiusM: 15 }]);

function gnss(at: number, p = CAFE, accuracy = 5, extra: Partial<GnssFixLike> = {}): GnssFixLike {
  return { source: 'serial', usable: true, mode: 3, lat: p.lat, lon: p.lon, hdop: 0.9, satellitesUsed: 9, accuracy, timeMs: at, receivedAt: at, ...extra };
}
function venue(at: number, id = '010203040506'): VenueObservation {
  return {
    venueId: id,
    slot: Math.floor(at / 60_000),
    txPower: -4,
    frame: Uint8Array.of(2, 1, 6),
    rssi: -62,
    filteredRssi: -61,
    attenuation: 57,
    receivedAt: at,
    address: 'c0:00:00:00:00:09',
  };
}

t.test('geo helpers', async (t) => {
  const p = offsetM(CAFE, 30, 40);
  t.ok(Math.abs(distanceM(CAFE, p) - 50) < 0.05, 'offset 30 E / 40 N is 50 m');
  const f = fuse([
    { source: 'gnss', ...CAFE, accuracyM: 10, at: T0 },
    { source: 'venue', ...offsetM(CAFE, 20, 0), accuracyM: 10, at: T0 + 5 },
  ]);
  t.ok(f && Math.abs(distanceM(f, offsetM(CAFE, 10, 0))) < 0.05, 'equal weights meet half way');
  t.ok(f && Math.abs(f.accuracyM - 10 / Math.SQRT2) < 1e-6, 'fused accuracy shrinks');
  t.same(f?.sources, ['gnss', 'venue']);
  t.equal(fuse([]), null);
});

t.test('GNSS and a fresh venue frame agree → evidence bundle', async (t) => {
  const v = crossVerify({ now: T0 + 1000, gnss: gnss(T0, offsetM(CAFE, 12, 5)), venues: [venue(T0 - 2000), venue(T0 + 500)] }, registry);
  t.ok(v.ok, JSON.stringify(v));
  if (!v.ok) return;
  t.same(v.evidence.sources, ['gnss', 'venue']);
  t.equal(v.evidence.venues.length, 1, 'one observation per venue (the freshest)');
  t.equal(v.evidence.venues[0].receivedAtMs, T0 + 500);
  t.equal(v.evidence.venues[0].rssi, -62);
  t.equal(v.evidence.gnss?.mode, '3d');
  t.equal(v.evidence.gnss?.accuracyCm, 500);
  t.equal(v.evidence.gnss?.satellites, 9);
  t.ok(distanceM(v.evidence.fused, CAFE) < 13, 'fused near the café');
  // a CA request signed by the day's pseudonym key
  const signer = new Ed25519Signer(new Uint8Array(32).fill(3));
  const req = buildCaRequest(v.evidence, signer, new Uint8Array(8));
  t.equal(req.day, Math.floor((T0 + 1000) / 86_400_000));
  t.ok(ed25519Verify(signer.publicKey, caRequestSigningBytes(req), req.signature), 'signature verifies');
});

t.test('GNSS spoof jump away from the beacon → refused, E_TRUST_DISAGREE', async (t) => {
  const spoofed = gnss(T0, offsetM(CAFE, 2000, 0));
  const v = crossVerify({ now: T0 + 1000, gnss: spoofed, venues: [venue(T0)] }, registry);
  t.equal(v.ok, false);
  if (v.ok) return;
  t.equal(v.reason, 'E_TRUST_DISAGREE');
  t.match(v.detail, /2000 m apart, limit 32 m/);
  // just inside and just outside k·sqrt(a1² + a2²) = 2·sqrt(5² + 15²) ≈ 31.6 m
  t.ok(crossVerify({ now: T0, gnss: gnss(T0, offsetM(CAFE, 31, 0)), venues: [venue(T0)] }, registry).ok);
  t.notOk(crossVerify({ now: T0, gnss: gnss(T0, offsetM(CAFE, 33, 0)), venues: [venue(T0)] }, registry).ok);
});

t.test('a venue heard only weakly (beyond presence strength) is no location source when venueMinRssi is set', async (t) => {
  const lounge = offsetM(CAFE, -50, 120);
  const two = new MapVenueRegistry([
    { id: '010203040506', key: new Uint8Array(32), ...CAFE, radiusM: 15 },
    { id: '0a0b0c0d0e0f', key: new Uint8Array(32), ...lounge, radiusM: 10 },
  ]);
  const far = { ...venue(T0, '0a0b0c0d0e0f'), rssi: -87, filteredRssi: -88 };
  const input = { now: T0 + 1000, gnss: gnss(T0, offsetM(CAFE, 3, 2)), venues: [venue(T0), far] };
  const strict = crossVerify(input, two);
  t.equal(strict.ok ? 'ok' : strict.reason, 'E_TRUST_DISAGREE', 'without a presence threshold the lounge 130 m away disagrees with GNSS at the café');
  const v = crossVerify(input, two, { venueMinRssi: -85 });
  t.ok(v.ok, 'with it, the café alone stands beside GNSS');
  if (v.ok)
    t.same(
      v.evidence.venues.map((o) => o.rssi),
      [-62],
      'the weak lounge frame is not in the evidence',
    );
  const strongFar = { ...far, rssi: -60, filteredRssi: -61 };
  const spoof = crossVerify({ ...input, venues: [venue(T0), strongFar] }, two, { venueMinRssi: -85 });
  t.equal(spoof.ok ? 'ok' : spoof.reason, 'E_TRUST_DISAGREE', 'a venue heard at presence strength far from GNSS still refuses');
});

t.test('single source, stale, poor GNSS and nothing', async (t) => {
  const reason = (v: TrustVerdict) => (v.ok ? 'ok' : v.reason);
  t.equal(reason(crossVerify({ now: T0, gnss: gnss(T0) }, registry)), 'E_TRUST_SINGLE_SOURCE');
  t.equal(reason(crossVerify({ now: T0, venues: [venue(T0)] }, registry)), 'E_TRUST_SINGLE_SOURCE');
  t.equal(reason(crossVerify({ now: T0 + 60_000, gnss: gnss(T0 + 60_000), venues: [venue(T0)] }, registry)), 'E_TRUST_STALE');
  t.equal(reason(crossVerify({ now: T0, gnss: gnss(T0, CAFE, 5, { usable: false }), venues: [venue(T0)] }, registry)), 'E_TRUST_GNSS_POOR');
  t.equal(reason(crossVerify({ now: T0, gnss: gnss(T0, CAFE, 5, { hdop: 9 }), venues: [venue(T0)] }, registry, { maxHdop: 5 })), 'E_TRUST_GNSS_POOR');
  t.equal(reason(crossVerify({ now: T0, venues: [venue(T0, 'ffffffffffff')] }, registry)), 'E_TRUST_NO_FIX', 'unregistered venue is no source');
  t.equal(reason(crossVerify({ now: T0 }, registry)), 'E_TRUST_NO_FIX');
  t.equal(
    reason(crossVerify({ now: T0, gnss: gnss(T0), others: [{ source: 'wifi', ...offsetM(CAFE, 10, 0), accuracyM: 30, at: T0 }] }, registry)),
    'ok',
    'a pluggable source counts',
  );
});

t.test('trust state machine: untrusted → trusted → lost → trusted, publishing blocked while not trusted', async (t) => {
  const m = new TrustMachine({ ttlMs: 60_000, regainAfter: 2 });
  const agree = crossVerify({ now: T0, gnss: gnss(T0), venues: [venue(T0)] }, registry);
  const spoof = crossVerify({ now: T0, gnss: gnss(T0, offsetM(CAFE, 5000, 0)), venues: [venue(T0)] }, registry);
  t.equal(m.canPublish(T0), false);
  t.equal(m.recording, true);
  t.equal(m.observe(agree, T0), 'trusted');
  t.equal(m.canPublish(T0 + 1000), true);
  t.equal(m.observe(spoof, T0 + 2000), 'lost', 'a spoof loses trust at once');
  t.equal(m.canPublish(T0 + 2000), false);
  t.equal(m.observe(agree, T0 + 3000), 'lost', 'one agreement is not enough to regain');
  t.equal(m.observe(agree, T0 + 4000), 'trusted');
  t.equal(m.canPublish(T0 + 4000 + 60_001), false, 'expires without fresh agreement');
  t.equal(m.state, 'lost');
  t.same(
    m.transitions.map((x) => `${x.from}>${x.to}:${x.reason}`),
    ['untrusted>trusted:agree', 'trusted>lost:E_TRUST_DISAGREE', 'lost>trusted:agree', 'trusted>lost:E_TRUST_EXPIRED'],
  );
  t.same(m.counters, { agree: 3, E_TRUST_DISAGREE: 1, E_TRUST_EXPIRED: 1 });
});

t.test('trust state machine: a long-running agent keeps only the newest transitions', async (t) => {
  const m = new TrustMachine({ ttlMs: 60_000, gainAfter: 1, regainAfter: 1 });
  const agree = crossVerify({ now: T0, gnss: gnss(T0), venues: [venue(T0)] }, registry);
  const spoof = crossVerify({ now: T0, gnss: gnss(T0, offsetM(CAFE, 5000, 0)), venues: [venue(T0)] }, registry);
  for (let i = 0; i < 500; i++) m.observe(i % 2 ? spoof : agree, T0 + i * 1000);
  t.equal(m.transitions.length, TRUST_TRANSITIONS_KEPT, 'bounded');
  t.equal(m.transitions.at(-1)!.at, T0 + 499 * 1000, 'the newest is kept');
  t.equal(m.transitions[0].at, T0 + (500 - TRUST_TRANSITIONS_KEPT) * 1000, 'the oldest dropped');
  t.equal(m.counters.agree, 250, 'counters still count every verdict');
});

t.test('end to end: pipeline venue frames + GNSS; a spoof jump blocks publishing but not recording', async (t) => {
  const key = new Uint8Array(32).fill(4);
  const id = Uint8Array.of(1, 2, 3, 4, 5, 6);
  const reg = new MapVenueRegistry([{ id: toHex(id), key, ...CAFE, radiusM: 15 }]);
  const recent: VenueObservation[] = [];
  const encounters = new EncounterLog();
  const p = new ScanPipeline({ venues: reg, encounters, onVenue: (o) => recent.push(o) });
  const m = new TrustMachine({ regainAfter: 2 });
  const states: string[] = [];
  for (let s = 0; s < 120; s++) {
    const now = T0 + s * 1000;
    p.push({
      address: 'c0:00:00:00:00:77',
      addressType: 'random',
      rssi: -65,
      connectable: false,
      receivedAt: now,
      data: encodeVenueFrame({ venueId: id, slot: slotOf(now / 1000), txPower: -4 }, key),
    });
    p.push({
      address: 'd0:00:00:00:00:01',
      addressType: 'random',
      rssi: -70,
      connectable: false,
      receivedAt: now,
      data: encodeAdvert({ kind: 'exposure-notification', rpi: new Uint8Array(16).fill(5), aem: new Uint8Array(4) }),
    });
    if (s % 10) continue;
    // GNSS: honest, then spoofed 2 km east from s = 40 to s = 80, then honest again
    const pos = s >= 40 && s < 80 ? offsetM(CAFE, 2000, 0) : offsetM(CAFE, 5, 5);
    const v = crossVerify({ now, gnss: gnss(now, pos), venues: recent.filter((o) => now - o.receivedAt < 30_000) }, reg);
    states.push(`${s}:${m.observe(v, now)}:${m.canPublish(now) ? 'pub' : 'hold'}`);
  }
  t.same(states, [
    '0:trusted:pub',
    '10:trusted:pub',
    '20:trusted:pub',
    '30:trusted:pub',
    '40:lost:hold',
    '50:lost:hold',
    '60:lost:hold',
    '70:lost:hold',
    '80:lost:hold',
    '90:trusted:pub',
    '100:trusted:pub',
    '110:trusted:pub',
  ]);
  t.equal(m.counters.E_TRUST_DISAGREE, 4);
  t.equal(encounters.get(toHex(new Uint8Array(16).fill(5)))?.samples, 120, 'recording never stopped');
});
