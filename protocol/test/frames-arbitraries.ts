// fast-check arbitraries for every advert kind (shared by the frames property and fuzz tests).
import fc from 'fast-check';
import { encodeEddystoneUrl, URL_EXPANSIONS, URL_SCHEMES, uuidFromBytes, type Advert } from '../src/frames/index.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const i8 = fc.integer({ min: -128, max: 127 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Adds an optional `flags` key (absent rather than undefined). */
const withFlags = <T extends object>(a: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.tuple(a, fc.option(fc.integer({ min: 0, max: 0xff }), { nil: undefined })).map(([x, f]) => (f === undefined ? x : { ...x, flags: f }));

const urlChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
export const eddystoneUrl = fc
  .tuple(fc.constantFrom(...URL_SCHEMES), fc.array(fc.oneof(urlChar, fc.constantFrom(...URL_EXPANSIONS)), { maxLength: 17 }))
  .map(([s, parts]) => s + parts.join(''))
  .filter((u) => {
    try {
      encodeEddystoneUrl(u);
      return true;
    } catch {
      return false;
    }
  });

export const venueFields = fc.record({ venueId: bytes(6), slot: u32, txPower: i8 });

export const advertByKind: Record<Advert['kind'], fc.Arbitrary<Advert>> = {
  ibeacon: withFlags(fc.record({ kind: fc.constant('ibeacon' as const), uuid: bytes(16).map(uuidFromBytes), major: u16, minor: u16, txPower: i8 })),
  'eddystone-uid': withFlags(fc.record({ kind: fc.constant('eddystone-uid' as const), txPower: i8, namespace: bytes(10), instance: bytes(6) })),
  'eddystone-url': withFlags(fc.record({ kind: fc.constant('eddystone-url' as const), txPower: i8, url: eddystoneUrl })),
  'eddystone-tlm': withFlags(
    fc
      .record({
        batteryMv: u16,
        temperatureC: fc.option(
          fc.integer({ min: -0x7fff, max: 0x7fff }).map((v) => v / 256),
          { nil: null },
        ),
        advCount: u32,
        secCount: u32,
      })
      .map((x) => ({ kind: 'eddystone-tlm' as const, ...x, seconds: x.secCount / 10 })),
  ),
  'eddystone-eid': withFlags(fc.record({ kind: fc.constant('eddystone-eid' as const), txPower: i8, eid: bytes(8) })),
  'exposure-notification': withFlags(fc.record({ kind: fc.constant('exposure-notification' as const), rpi: bytes(16), aem: bytes(4) })),
  'beepkit-venue': withFlags(venueFields.chain((f) => bytes(12).map((mac) => ({ kind: 'beepkit-venue' as const, version: 1, ...f, mac })))),
  // AD types 0x20..0xfe carry no meaning for the decoder, so these stay `unknown`.
  unknown: fc
    .array(fc.record({ type: fc.integer({ min: 0x20, max: 0xfe }), data: fc.uint8Array({ maxLength: 24 }) }), { maxLength: 8 })
    .map((structures) => ({ kind: 'unknown' as const, structures })),
};

export const anyAdvert: fc.Arbitrary<Advert> = fc.oneof(...Object.values(advertByKind));
