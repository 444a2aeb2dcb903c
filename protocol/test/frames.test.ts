import t from 'tap';
import { readFileSync } from 'node:fs';
import { codeOf } from './fuzz-helpers.ts';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  advertToJson,
  decodeAdvert,
  decodeEddystoneUrl,
  decodeVenueFrame,
  encodeAdStructures,
  encodeAdvert,
  encodeEddystoneUrl,
  encodeVenueFrame,
  LEGACY_ADVERT_BYTES,
  parseAdStructures,
  slotOf,
  verifyVenueFrame,
  type Advert,
} from '../src/frames/index.ts';

const vectors = JSON.parse(readFileSync(new URL('./vectors/frames/adverts.json', import.meta.url), 'utf8')) as {
  valid: { name: string; hex: string; decoded: Record<string, unknown> }[];
  invalid: { name: string; hex: string; code: string }[];
};
const venue = JSON.parse(readFileSync(new URL('./vectors/frames/venue.json', import.meta.url), 'utf8')) as {
  key: string;
  frames: { unixSeconds: number; slotSeconds: number; venueId: string; slot: number; txPower: number; hex: string }[];
};

t.test('valid advert vectors decode to the frozen JSON and re-encode to the same bytes', async (t) => {
  const kinds = new Set<string>();
  for (const v of vectors.valid) {
    const buf = fromHex(v.hex);
    const a = decodeAdvert(buf);
    kinds.add(a.kind);
    t.same(advertToJson(a), v.decoded, v.name);
    const unpadded = v.hex.replace(/(00)+$/, '');
    // Eddystone-UID beacons may omit the RFU bytes; our encoder always writes them.
    t.equal(toHex(encodeAdvert(a)).replace(/(00)+$/, ''), unpadded, `${v.name} re-encodes`);
  }
  t.same([...kinds].sort(), [
    'beepkit-venue',
    'eddystone-eid',
    'eddystone-tlm',
    'eddystone-uid',
    'eddystone-url',
    'exposure-notification',
    'ibeacon',
    'unknown',
  ]);
});

t.test('invalid advert vectors fail with their typed code', async (t) => {
  for (const v of vectors.invalid) t.throws(() => decodeAdvert(fromHex(v.hex)), { name: 'BeepkitError', code: v.code }, v.name);
});

t.test('AD walker: terminator, padding, overrun', async (t) => {
  t.same(parseAdStructures(new Uint8Array(0)), []);
  t.same(parseAdStructures(fromHex('0201060000')).length, 1);
  t.throws(() => parseAdStructures(fromHex('020106ff')), { code: 'E_OVERRUN' });
  t.throws(() => parseAdStructures(fromHex('0201060007')), { code: 'E_TRAILING' });
  t.throws(() => encodeAdStructures([{ type: 300, data: new Uint8Array(0) }]), { code: 'E_RANGE' });
  t.equal(decodeAdvert(fromHex('00000000')).kind, 'unknown');
  const big = encodeAdStructures([{ type: 0xff, data: new Uint8Array(200) }]);
  t.equal(parseAdStructures(big)[0].data.length, 200, 'extended-report sized payloads are accepted');
});

t.test('Eddystone URL compression', async (t) => {
  t.same([...encodeEddystoneUrl('https://goo.gl/S6zT6P')], [3, ...new TextEncoder().encode('goo.gl/S6zT6P')]);
  t.same([...encodeEddystoneUrl('http://www.example.com/')], [0, ...new TextEncoder().encode('example'), 0]);
  t.equal(encodeEddystoneUrl('https://a.com').at(-1), 7, '.com without slash is 0x07');
  t.equal(decodeEddystoneUrl(fromHex('0061006200')), 'http://www.a.com/b.com/');
  t.throws(() => encodeEddystoneUrl('ftp://x'), { code: 'E_FORMAT' });
  t.throws(() => encodeEddystoneUrl('https://' + 'x'.repeat(18)), { code: 'E_RANGE' });
  t.throws(() => encodeEddystoneUrl('https://a b'), { code: 'E_FORMAT' });
});

t.test('encoders reject out-of-range fields', async (t) => {
  const bad: Advert[] = [
    { kind: 'ibeacon', uuid: 'E2C56DB5-DFFB-48D2-B060-D0F5A71096E0', major: 0, minor: 0, txPower: 0 },
    { kind: 'ibeacon', uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', major: 65536, minor: 0, txPower: 0 },
    { kind: 'ibeacon', uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', major: 0, minor: 0, txPower: 128 },
    { kind: 'eddystone-eid', txPower: 0, eid: new Uint8Array(7) },
    { kind: 'eddystone-tlm', batteryMv: 0, temperatureC: 0.001, advCount: 0, secCount: 0, seconds: 0 },
    { kind: 'eddystone-tlm', batteryMv: 0, temperatureC: -128, advCount: 0, secCount: 0, seconds: 0 },
    { kind: 'exposure-notification', rpi: new Uint8Array(15), aem: new Uint8Array(4) },
  ];
  for (const a of bad)
    t.match(
      codeOf(() => encodeAdvert(a)),
      /^E_(RANGE|FORMAT)$/,
      a.kind,
    );
});

t.test('venue frame vectors: layout, size, MAC and freshness', async (t) => {
  const key = fromHex(venue.key);
  for (const f of venue.frames) {
    const fields = { venueId: fromHex(f.venueId), slot: slotOf(f.unixSeconds, f.slotSeconds), txPower: f.txPower };
    t.equal(fields.slot, f.slot);
    const buf = encodeVenueFrame(fields, key);
    t.equal(buf.length, LEGACY_ADVERT_BYTES, 'fills exactly one legacy advert with flags');
    t.equal(toHex(buf), f.hex);
    const d = decodeVenueFrame(buf);
    t.equal(d.mac.length, 12);
    t.same(
      { venueId: toHex(d.venueId), slot: d.slot, txPower: d.txPower, version: d.version, flags: d.flags },
      { venueId: f.venueId, slot: f.slot, txPower: f.txPower, version: 1, flags: 6 },
    );
    t.doesNotThrow(() => verifyVenueFrame(d, key, { nowSlot: f.slot }));
    t.doesNotThrow(() => verifyVenueFrame(d, key, { nowSlot: f.slot + 1, window: 1 }));
    t.doesNotThrow(() => verifyVenueFrame(d, key, { nowSlot: f.slot - 1, window: 1 }));
    t.throws(() => verifyVenueFrame(d, key, { nowSlot: f.slot + 2, window: 1 }), { code: 'E_REPLAY' });
    t.throws(() => verifyVenueFrame(d, key, { nowSlot: f.slot - 2, window: 1 }), { code: 'E_EXPIRED' });
    t.throws(() => verifyVenueFrame(d, key, { nowSlot: f.slot + 1, window: 0 }), { code: 'E_REPLAY' });
    const other = key.slice();
    other[0] ^= 1;
    t.throws(() => verifyVenueFrame(d, other, { nowSlot: f.slot }), { code: 'E_CHECKSUM' });
    t.throws(() => verifyVenueFrame(d, key.subarray(0, 16), { nowSlot: f.slot }), { code: 'E_KEY' });
  }
  t.throws(() => decodeVenueFrame(fromHex(vectors.valid[0].hex)), { code: 'E_TYPE' }, 'an iBeacon is not a venue frame');
  t.equal(slotOf(59.999, 60), 0);
  t.equal(slotOf(60, 60), 1);
  t.throws(() => slotOf(-1, 60), { code: 'E_RANGE' });
  t.throws(() => slotOf(10, 0), { code: 'E_RANGE' });
  t.throws(() => encodeVenueFrame({ venueId: new Uint8Array(5), slot: 1, txPower: 0 }, key), { code: 'E_RANGE' });
});

t.test('decodeAdvert precedence and unknown summaries', async (t) => {
  const a = decodeAdvert(fromHex('0201060303aafe0a09626565706b69742d31051612180102'));
  t.equal(a.kind, 'unknown');
  if (a.kind === 'unknown') {
    t.equal(a.localName, 'beepkit-1');
    t.same(a.serviceUuids16, [0xfeaa]);
    t.same(
      a.serviceData16?.map((s) => s.uuid),
      [0x1812],
    );
  }
  // Service data FD6F without the complete UUID list is not an EN advert.
  t.equal(decodeAdvert(fromHex('17166ffd' + '00'.repeat(20))).kind, 'unknown');
  // Apple manufacturer data that is not an iBeacon stays unknown.
  t.equal(decodeAdvert(fromHex('06ff4c0010020b00')).kind, 'unknown');
  // Unknown Eddystone frame types stay unknown.
  t.equal(decodeAdvert(fromHex('0303aafe0516aafe5000')).kind, 'unknown');
});
