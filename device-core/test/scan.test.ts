import t from 'tap';
import { encodeAdvert, encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { toHex } from '@beepkit/protocol/bytes';
import { ScanPipeline, MapVenueRegistry, type AdvertEvent, type VenueObservation } from '../src/scan/index.ts';
import { EncounterLog, meanAttenuation } from '../src/encounters/index.ts';
import { VisitDetector } from '../src/visits/index.ts';
import { mulberry32, syntheticRssi } from '../src/rssi/index.ts';

const T0 = 1_700_000_000_000;
const venueKey = new Uint8Array(32).fill(7);
const venueId = Uint8Array.of(1, 2, 3, 4, 5, 6);
const venues = new MapVenueRegistry([{ id: toHex(venueId), key: venueKey, lat: 52.5, lon: 13.4, radiusM: 20 }]);

function ev(data: Uint8Array, rssi = -60, at = T0, address = 'c0:00:00:00:00:01'): AdvertEvent {
  return { address, addressType: 'random', rssi, data, connectable: false, receivedAt: at };
}
function enAdvert(rpi: Uint8Array, aem = Uint8Array.of(0x40, 0xf8, 0, 0)): Uint8Array {
  return encodeAdvert({ kind: 'exposure-notification', rpi, aem, flags: 0x1a });
}
function venueAdvert(at: number, key = venueKey): Uint8Array {
  return encodeVenueFrame({ venueId, slot: slotOf(at / 1000), txPower: -4 }, key);
}

t.test('classifies every kind and counts them', async (t) => {
  const p = new ScanPipeline({ venues });
  const rpi = new Uint8Array(16).fill(9);
  t.equal(p.push(ev(enAdvert(rpi))), 'exposure-notification');
  t.equal(p.push(ev(encodeAdvert({ kind: 'ibeacon', uuid: '11111111-2222-3333-4444-555555555555', major: 1, minor: 2, txPower: -59 }))), 'ibeacon');
  t.equal(p.push(ev(encodeAdvert({ kind: 'eddystone-uid', txPower: -20, namespace: new Uint8Array(10), instance: new Uint8Array(6) }))), 'eddystone-uid');
  t.equal(p.push(ev(venueAdvert(T0))), 'beepkit-venue');
  t.equal(p.push(ev(Uint8Array.of(2, 1, 6, 3, 9, 0x41, 0x42))), 'unknown');
  t.equal(p.stats.total, 5);
  t.equal(p.stats.accepted, 5);
  t.equal(p.stats.byKind['exposure-notification'], 1);
  t.equal(p.stats.byKind['beepkit-venue'], 1);
  t.equal(p.peerCount, 5);
  const en = p.peer(toHex(rpi));
  t.ok(en, 'EN peer keyed by its RPI');
  t.equal(en?.attenuation, -8 - -60, 'attenuation from the assumed EN TX power');
});

t.test('EN TX power from the AEM resolver and the receiver correction', async (t) => {
  const p = new ScanPipeline({ rssiCorrection: 3, enTxPower: (_rpi, aem) => (aem[1] << 24) >> 24 });
  p.push(ev(enAdvert(new Uint8Array(16).fill(1), Uint8Array.of(0x40, 0xfc, 0, 0)), -70));
  t.equal(p.peer(toHex(new Uint8Array(16).fill(1)))?.attenuation, -4 - (-70 + 3));
});

t.test('venue frames: verified, repeated, forged, stale, unknown', async (t) => {
  const seen: VenueObservation[] = [];
  const visits = new VisitDetector({ enterFrames: 2 });
  const p = new ScanPipeline({ venues, visits, onVenue: (o) => seen.push(o) });
  const frame = venueAdvert(T0);
  t.equal(p.push(ev(frame, -60, T0)), 'beepkit-venue');
  t.equal(p.push(ev(frame, -61, T0 + 1000)), 'beepkit-venue', 'repeat of a verified frame');
  t.equal(seen.length, 2);
  t.equal(seen[0].venueId, toHex(venueId));
  t.same(seen[0].frame, frame, 'raw frame kept as evidence');
  t.equal(visits.current().length, 1, 'two strong frames opened a visit');
  t.equal(p.push(ev(venueAdvert(T0, new Uint8Array(32).fill(8)), -60, T0 + 2000)), null, 'forged MAC');
  t.equal(p.push(ev(frame, -60, T0 + 10 * 60_000)), null, 'same frame ten minutes later is a replay');
  const other = encodeVenueFrame({ venueId: Uint8Array.of(9, 9, 9, 9, 9, 9), slot: slotOf(T0 / 1000), txPower: -4 }, venueKey);
  t.equal(p.push(ev(other)), null, 'unregistered venue');
  t.same(p.stats.rejects, { E_CHECKSUM: 1, E_REPLAY: 1, E_VENUE_UNKNOWN: 1 });
  t.equal(seen.length, 2, 'rejected frames are not evidence');
});

t.test('bad adverts are counted by code, never thrown', async (t) => {
  const p = new ScanPipeline();
  t.equal(p.push(ev(Uint8Array.of(5, 0xff, 1))), null);
  t.equal(p.push(ev(Uint8Array.of(0, 1))), null);
  t.equal(p.push(ev(enAdvert(new Uint8Array(16)), 127)), null);
  t.equal(p.push({ ...ev(new Uint8Array(0)), data: 'nope' as unknown as Uint8Array }), null);
  t.same(p.stats.rejects, { E_OVERRUN: 1, E_TRAILING: 1, E_RSSI: 1, E_TYPE: 1 });
  t.equal(p.stats.accepted, 0);
});

t.test('peers at 1, 3 and 8 m end up ordered by attenuation', async (t) => {
  const rng = mulberry32(1234);
  const model = { a1m: 50, n: 2.5, sigma: 4 };
  const encounters = new EncounterLog();
  const p = new ScanPipeline({ encounters, assumedEnTxPower: -8 });
  const peers = [8, 1, 3].map((d, i) => ({ d, rpi: new Uint8Array(16).fill(0x10 + i), addr: `c0:00:00:00:00:1${i}` }));
  for (let s = 0; s < 240; s++) {
    for (const q of peers) p.push(ev(enAdvert(q.rpi), syntheticRssi(rng, q.d, -8, model), T0 + s * 1000, q.addr));
  }
  const byMean = [...encounters.encounters()].sort((a, b) => meanAttenuation(a) - meanAttenuation(b));
  const dOf = (rpi: string) => peers.find((q) => toHex(q.rpi) === rpi)?.d;
  t.same(
    byMean.map((e) => dOf(e.rpi)),
    [1, 3, 8],
    'mean attenuation order',
  );
  const byPeer = [...p.allPeers()].sort((a, b) => a.attenuation - b.attenuation);
  t.same(
    byPeer.map((x) => dOf(x.key)),
    [1, 3, 8],
    'filtered attenuation order',
  );
  for (const e of encounters.encounters()) {
    t.equal(e.samples, 240);
    t.equal(e.lastSeen - e.firstSeen, 239_000);
  }
});

t.test('fuzz: 100 000 random and mutated adverts never throw', async (t) => {
  const rng = mulberry32(77);
  const seeds = [
    enAdvert(new Uint8Array(16).fill(3)),
    venueAdvert(T0),
    encodeAdvert({ kind: 'ibeacon', uuid: '11111111-2222-3333-4444-555555555555', major: 1, minor: 2, txPower: -59 }),
    encodeAdvert({ kind: 'eddystone-url', txPower: -20, url: 'https://ex.am/ple' }),
    Uint8Array.of(2, 1, 6, 5, 9, 0x41, 0x42, 0x43, 0x44),
  ];
  const p = new ScanPipeline({ venues, encounters: new EncounterLog(), visits: new VisitDetector() });
  const N = 100_000;
  let thrown = 0;
  for (let i = 0; i < N; i++) {
    let data: Uint8Array;
    const mode = rng();
    if (mode < 0.3) {
      data = new Uint8Array(Math.floor(rng() * 40));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(rng() * 256);
    } else {
      const base = seeds[Math.floor(rng() * seeds.length)];
      data = base.slice(0, mode < 0.4 ? Math.floor(rng() * (base.length + 1)) : base.length);
      const flips = Math.floor(rng() * 4);
      for (let f = 0; f < flips && data.length; f++) data[Math.floor(rng() * data.length)] = Math.floor(rng() * 256);
    }
    const rssi = rng() < 0.02 ? 127 : -100 + Math.floor(rng() * 80);
    try {
      p.push(ev(data, rssi, T0 + i, `c0:00:00:00:${(i & 0xff).toString(16).padStart(2, '0')}:00`));
    } catch {
      thrown++;
    }
  }
  t.equal(thrown, 0, 'nothing escaped');
  const rejected = Object.values(p.stats.rejects).reduce((a, b) => a + b, 0);
  t.equal(p.stats.total, N);
  t.equal(p.stats.accepted + rejected - (p.stats.rejects.E_PEER_TABLE_FULL ?? 0), N, 'every advert accepted or counted');
  t.notOk('E_INTERNAL' in p.stats.rejects, `no internal errors: ${JSON.stringify(p.stats.rejects)}`);
  t.ok(Object.keys(p.stats.rejects).length >= 4, `several codes: ${Object.keys(p.stats.rejects).join(',')}`);
  t.ok(p.stats.byKind['exposure-notification'] > 1000 && p.stats.byKind.unknown > 1000, 'mutants still classify');
});

t.test('peer table bound and idle purge', async (t) => {
  const p = new ScanPipeline({ maxPeers: 2 });
  for (let i = 0; i < 3; i++) p.push(ev(enAdvert(new Uint8Array(16).fill(i)), -60, T0 + i));
  t.equal(p.peerCount, 2);
  t.equal(p.stats.rejects.E_PEER_TABLE_FULL, 1);
  t.equal(p.purgeIdle(T0 + 10, 9), 1);
  t.equal(p.peerCount, 1);
  t.equal(p.peer(toHex(new Uint8Array(16).fill(0)))?.samples, undefined, 'purged peer is gone');
  p.push(ev(enAdvert(new Uint8Array(16).fill(0)), -60, T0 + 20));
  t.equal(p.peer(toHex(new Uint8Array(16).fill(0)))?.samples, 1, 'a purged RPI comes back as a fresh peer');
  p.push(ev(enAdvert(new Uint8Array(16).fill(1)), -60, T0 + 21));
  t.equal(p.peer(toHex(new Uint8Array(16).fill(1)))?.samples, 2, 'the surviving peer is still found by RPI');
});

t.test('advert times: before 1970 refused, fractional milliseconds logged whole (the log file keeps whole ms)', async (t) => {
  const encounters = new EncounterLog();
  const p = new ScanPipeline({ encounters, assumedEnTxPower: -8 });
  const rpi = new Uint8Array(16).fill(0x33);
  t.equal(p.push(ev(enAdvert(rpi), -60, -1)), null, 'a negative time is no reading');
  t.same(p.stats.rejects, { E_RANGE: 1 });
  t.equal(encounters.size, 0);
  p.push(ev(enAdvert(rpi), -60, T0 + 0.4));
  p.push(ev(enAdvert(rpi), -60, T0 + 1000.6));
  const e = encounters.get(toHex(rpi));
  t.equal(e?.firstSeen, T0, 'first seen rounded to the millisecond');
  t.equal(e?.lastSeen, T0 + 1001, 'last seen rounded to the millisecond');
  t.ok(
    e?.windows.every((w) => Number.isInteger(w.start) && Number.isInteger(w.end)),
    'window times whole',
  );
});
