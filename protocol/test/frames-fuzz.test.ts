import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  decodeAdvert,
  decodeVenueFrame,
  encodeAdStructures,
  encodeAdvert,
  parseAdStructures,
  encodeVenueFrame,
  jsonView,
  verifyVenueFrame,
} from '../src/frames/index.ts';
import { anyAdvert, venueFields } from './frames-arbitraries.ts';
import { fuzz, mutate, type Gen } from './fuzz-helpers.ts';

const N = 100_000;
const vectors = JSON.parse(readFileSync(new URL('./vectors/frames/adverts.json', import.meta.url), 'utf8')) as {
  valid: { hex: string }[];
  invalid: { hex: string }[];
};
const key = new Uint8Array(32).fill(0x42);
const corpus = [
  ...vectors.valid.map((v) => fromHex(v.hex)),
  ...vectors.invalid.map((v) => fromHex(v.hex)).filter((b) => b.length <= 255),
  ...fc.sample(anyAdvert, { seed: 3, numRuns: 300 }).map(encodeAdvert),
  ...fc.sample(venueFields, { seed: 4, numRuns: 50 }).map((f) => encodeVenueFrame(f, key)),
];

/** Half byte-level mutations, half structure-aware ones (one AD structure's data mutated, lengths kept consistent). */
function advertGen(seeds: Uint8Array[], maxLen: number): Gen {
  const parsed = seeds
    .flatMap((b) => {
      try {
        return [parseAdStructures(b)];
      } catch {
        return [];
      }
    })
    .filter((l) => l.length > 0);
  return (rand) => {
    if (rand() < 0.5) return mutate(rand, seeds, maxLen);
    const list = parsed[Math.floor(rand() * parsed.length)].map((s) => ({ ...s }));
    const k = Math.floor(rand() * list.length);
    list[k] = { type: rand() < 0.1 ? Math.floor(rand() * 256) : list[k].type, data: mutate(rand, [list[k].data], 30).slice(0, 30) };
    return encodeAdStructures(list);
  };
}

t.test(`decodeAdvert: ${N} random and mutated inputs, only BeepkitError escapes`, async (t) => {
  const r = fuzz(N, 0xad5, advertGen(corpus, 62), (b) => {
    const a = decodeAdvert(b);
    // Whatever decodes must re-encode, and decode again to the same value.
    const again = decodeAdvert(encodeAdvert(a));
    if (!isDeepStrictEqual(jsonView(again), jsonView(a))) throw new Error(`re-decode differs for ${toHex(b)}`);
  });
  t.equal(r.foreign, undefined, r.foreign ? `${String(r.foreign.error)} on ${toHex(r.foreign.input)}` : 'typed errors only');
  t.ok(r.ok > N / 20, `${r.ok} inputs decoded`);
  t.ok(Object.keys(r.codes).length >= 4, `error codes seen: ${JSON.stringify(r.codes)}`);
});

t.test(`venue frames: ${N} random and mutated inputs through decode + verify`, async (t) => {
  const venueCorpus = fc.sample(venueFields, { seed: 5, numRuns: 100 }).map((f) => encodeVenueFrame(f, key));
  let verified = 0;
  const r = fuzz(N, 0x7e4e, advertGen(venueCorpus, 40), (b) => {
    const f = decodeVenueFrame(b);
    verifyVenueFrame(f, key, { nowSlot: f.slot, window: 0 });
    verified++;
  });
  t.equal(r.foreign, undefined, r.foreign ? `${String(r.foreign.error)} on ${toHex(r.foreign.input)}` : 'typed errors only');
  t.ok((r.codes.E_CHECKSUM ?? 0) > 1000, `MAC rejections: ${JSON.stringify(r.codes)}`);
  // Only unmutated frames (or mutations confined to bytes outside the MAC input) verify.
  t.ok(verified > 0 && verified < N / 4, `${verified} verified`);
});
