import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { codeOf } from './fuzz-helpers.ts';
import { decodeAdvert, decodeVenueFrame, encodeAdvert, encodeVenueFrame, jsonView, verifyVenueFrame, type Advert } from '../src/frames/index.ts';
import { advertByKind, venueFields } from './frames-arbitraries.ts';

/** Deep equality that ignores prototypes (fast-check records have a null prototype). */
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(jsonView(a), jsonView(b));
const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

t.test('decode(encode(x)) == x for every advert kind', async (t) => {
  for (const [kind, arb] of Object.entries(advertByKind)) {
    let seen = 0;
    fc.assert(
      fc.property(arb, (a: Advert) => {
        seen++;
        const d = decodeAdvert(encodeAdvert(a));
        // `unknown` adverts also carry derived summaries; their structures are the source of truth.
        return d.kind === 'unknown' && a.kind === 'unknown' ? same(d.structures, a.structures) : same(d, a);
      }),
      { seed: 0x5eed + kind.length, numRuns: 400 },
    );
    t.equal(seen >= 400, true, `${kind}: ${seen} runs`);
  }
});

t.test('legacy-sized kinds fit in 31 bytes with flags', async (t) => {
  for (const kind of ['ibeacon', 'eddystone-uid', 'eddystone-url', 'eddystone-tlm', 'eddystone-eid', 'exposure-notification', 'beepkit-venue'] as const) {
    let longest = 0;
    fc.assert(
      fc.property(advertByKind[kind], (a) => {
        longest = Math.max(longest, encodeAdvert({ ...a, flags: 6 } as Advert).length);
        return longest <= 31;
      }),
      { seed: 7, numRuns: 200 },
    );
    t.ok(longest > 10 && longest <= 31, `${kind}: longest ${longest} bytes`);
  }
});

t.test('venue frame: any single flipped bit in venue id, slot, tx power or MAC fails verification', async (t) => {
  let flips = 0;
  fc.assert(
    fc.property(venueFields, key, fc.integer({ min: 0, max: 23 * 8 - 1 }), (f, k, bit) => {
      const buf = encodeVenueFrame(f, k);
      const bad = buf.slice();
      bad[8 + (bit >> 3)] ^= 1 << (bit & 7); // offsets 8..30: venue id, slot, tx, mac
      const d = decodeVenueFrame(bad);
      flips++;
      // Freshness is satisfied around the (possibly flipped) slot, so only the MAC can fail.
      return (
        codeOf(() => verifyVenueFrame(d, k, { nowSlot: d.slot, window: 1 })) === 'E_CHECKSUM' &&
        codeOf(() => verifyVenueFrame(decodeVenueFrame(buf), k, { nowSlot: f.slot })) === 'no error'
      );
    }),
    { seed: 1234, numRuns: 2000 },
  );
  t.equal(flips, 2000);
});

t.test('venue frame: slots older than the window are replays, newer ones not yet valid', async (t) => {
  fc.assert(
    fc.property(venueFields, key, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 1000 }), (f, k, window, extra) => {
      const d = decodeVenueFrame(encodeVenueFrame(f, k));
      const old = codeOf(() => verifyVenueFrame(d, k, { nowSlot: f.slot + window + extra, window }));
      const inside = codeOf(() => verifyVenueFrame(d, k, { nowSlot: f.slot + window, window }));
      const future = f.slot - window - extra >= 0 ? codeOf(() => verifyVenueFrame(d, k, { nowSlot: f.slot - window - extra, window })) : 'E_EXPIRED';
      return old === 'E_REPLAY' && inside === 'no error' && future === 'E_EXPIRED';
    }),
    { seed: 99, numRuns: 1000 },
  );
  t.equal(
    codeOf(() => verifyVenueFrame({ venueId: new Uint8Array(6), slot: 5, txPower: 0, mac: new Uint8Array(12) }, new Uint8Array(32), { nowSlot: 5 })),
    'E_CHECKSUM',
  );
});
