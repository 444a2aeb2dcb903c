/**
 * Shared fuzz driver for the crypto codecs (not a test file itself): feeds a
 * decoder random and mutated inputs from a seeded PRNG and returns every
 * exception that is not a BeepkitError.
 */
import { isBeepkitError } from '../src/errors.ts';

export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export interface FuzzResult {
  runs: number;
  accepted: number;
  codes: Record<string, number>;
  escaped: { input: string; error: string }[];
}

/** Runs `n` inputs through `decode`: ~1/5 random bytes, the rest 1..3 mutations of a valid seed. */
export function fuzz(decode: (b: Uint8Array) => unknown, seeds: Uint8Array[], n: number, seed: number): FuzzResult {
  const rnd = prng(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const maxLen = Math.max(...seeds.map((s) => s.length)) + 8;
  const res: FuzzResult = { runs: 0, accepted: 0, codes: {}, escaped: [] };
  for (let i = 0; i < n; i++) {
    let b: Uint8Array;
    if (i % 5 === 0) {
      b = new Uint8Array(int(maxLen));
      for (let j = 0; j < b.length; j++) b[j] = int(256);
    } else {
      b = seeds[int(seeds.length)].slice();
      const m = 1 + int(3);
      for (let k = 0; k < m; k++) b = mutate(b, int, rnd);
    }
    res.runs++;
    try {
      decode(b);
      res.accepted++;
    } catch (e) {
      if (isBeepkitError(e)) res.codes[e.code] = (res.codes[e.code] ?? 0) + 1;
      else if (res.escaped.length < 5) res.escaped.push({ input: Buffer.from(b).toString('hex'), error: String(e) });
    }
  }
  return res;
}

function mutate(b: Uint8Array, int: (k: number) => number, rnd: () => number): Uint8Array {
  const op = int(7);
  const at = int(b.length + 1);
  switch (op) {
    case 0: // flip a bit
      if (b.length) b[at % b.length] ^= 1 << int(8);
      return b;
    case 1: // random byte
      if (b.length) b[at % b.length] = int(256);
      return b;
    case 2: // truncate
      return b.slice(0, at);
    case 3: // append junk
      return Uint8Array.from([...b, ...Array.from({ length: 1 + int(8) }, () => int(256))]);
    case 4: // delete a byte
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
    case 5: // insert a byte
      return Uint8Array.from([...b.subarray(0, at), int(256), ...b.subarray(at)]);
    default: // extreme value
      if (b.length) b[at % b.length] = rnd() < 0.5 ? 0 : 0xff;
      return b;
  }
}
