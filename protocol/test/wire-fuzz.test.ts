import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { fromHex, toHex } from '../src/bytes.ts';
import { jsonView } from '../src/frames/index.ts';
import { CODECS, decodeMessage, encodeMessage, parseTopic, type WireType } from '../src/wire/index.ts';
import { anyMessage, messageByType } from './wire-arbitraries.ts';
import { fuzz, mutate, type Gen } from './fuzz-helpers.ts';

const N = 100_000;
const { vectors } = JSON.parse(readFileSync(new URL('./vectors/wire/messages.json', import.meta.url), 'utf8')) as { vectors: { hex: string }[] };
const corpus = [...vectors.map((v) => fromHex(v.hex)), ...fc.sample(anyMessage, { seed: 11, numRuns: 400 }).map(encodeMessage)];
const codes = Object.values(CODECS).map((c) => c.code);

/** Byte mutations, plus random bodies behind a valid header of a random known type (reaches every body decoder). */
const wireGen: Gen = (rand) => {
  if (rand() < 0.7) return mutate(rand, corpus, 160);
  const body = mutate(rand, corpus, 160).subarray(12);
  return Uint8Array.of(0x42, 0x4b, 1, codes[Math.floor(rand() * codes.length)], 1, 2, 3, 4, 5, 6, 7, 8, ...body);
};

t.test(`decodeMessage (envelope dispatcher): ${N} random and mutated inputs, only BeepkitError escapes`, async (t) => {
  const types = new Set<WireType>();
  const r = fuzz(N, 0xb0c, wireGen, (b) => {
    const m = decodeMessage(b);
    types.add(m.type);
    // Whatever decodes re-encodes to the same bytes (the encoding is canonical).
    if (toHex(encodeMessage(m)) !== toHex(b)) throw new Error(`non-canonical accept: ${toHex(b)}`);
  });
  t.equal(r.foreign, undefined, r.foreign ? `${String(r.foreign.error)} on ${toHex(r.foreign.input)}` : 'typed errors only');
  t.ok(r.ok > 1000, `${r.ok} inputs decoded`);
  t.equal(types.size, Object.keys(CODECS).length, `decoded types: ${[...types].join(',')}`);
  t.ok(Object.keys(r.codes).length >= 5, JSON.stringify(r.codes));
});

t.test('per-type body decoders: mutated valid messages of each type', async (t) => {
  for (const [type, arb] of Object.entries(messageByType)) {
    const seeds = fc.sample(arb, { seed: 12, numRuns: 50 }).map(encodeMessage);
    const r = fuzz(
      4_000,
      0x5ee + type.length,
      (rand) => mutate(rand, seeds, 200),
      (b) => {
        const m = decodeMessage(b);
        if (!isDeepStrictEqual(jsonView(decodeMessage(encodeMessage(m))), jsonView(m))) throw new Error('re-decode differs');
      },
    );
    t.equal(r.foreign, undefined, r.foreign ? `${type}: ${String(r.foreign.error)} on ${toHex(r.foreign.input)}` : `${type}: typed errors only`);
  }
});

t.test(`parseTopic: ${N} random and mutated topics, only BeepkitError escapes`, async (t) => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const seeds = [
    'beepkit/v1/dev/device-0001/up/batch',
    'beepkit/v1/dev/device-0001/reply',
    'beepkit/v1/carer/carer-0001/alert',
    'beepkit/v1/feed/notification',
  ].map((s) => enc.encode(s));
  const r = fuzz(
    N,
    0x70b,
    (rand) => mutate(rand, seeds, 60),
    (b) => void parseTopic(dec.decode(b)),
  );
  t.equal(r.foreign, undefined, r.foreign ? String(r.foreign.error) : 'typed errors only');
  t.ok(r.ok > 100 && (r.codes.E_TYPE ?? 0) > N / 2, `${r.ok} parsed, ${JSON.stringify(r.codes)}`);
});
