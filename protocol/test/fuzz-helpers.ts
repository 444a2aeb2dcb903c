// Helpers shared by the frames and wire tests: typed-error probe and seeded mutation fuzzing.
import { BeepkitError } from '../src/errors.ts';

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
import { mulberry32 as prng } from '../src/rng.ts';
export { prng };

/** One random input: fresh random bytes, or a seed input with 1–4 mutations (bit flips, byte sets, insert, delete, truncate, extend). */
export function mutate(rand: () => number, corpus: readonly Uint8Array[], maxLen: number): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n);
  if (corpus.length === 0 || rand() < 0.2) {
    const out = new Uint8Array(int(maxLen + 1));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
    return out;
  }
  let b = Array.from(corpus[int(corpus.length)]);
  for (let m = 1 + int(4); m > 0; m--) {
    const at = int(b.length + 1);
    switch (int(6)) {
      case 0:
        if (b.length) b[at % b.length] ^= 1 << int(8);
        break;
      case 1:
        if (b.length) b[at % b.length] = [0, 0xff, 0x7f, 0x80, 1, int(256)][int(6)];
        break;
      case 2:
        b.splice(at, 0, int(256));
        break;
      case 3:
        b.splice(at, 1 + int(4));
        break;
      case 4:
        b = b.slice(0, at);
        break;
      default:
        for (let k = int(8); k >= 0; k--) b.push(int(256));
    }
  }
  return Uint8Array.from(b.slice(0, maxLen + 8));
}

export type Gen = (rand: () => number) => Uint8Array;

/** Runs `fn` on `n` inputs from `gen`; returns counts of outcomes, and the first non-BeepkitError thrown (if any). */
export function fuzz(
  n: number,
  seed: number,
  gen: Gen,
  fn: (b: Uint8Array) => void,
): { ok: number; codes: Record<string, number>; foreign?: { input: Uint8Array; error: unknown } } {
  const rand = prng(seed);
  const codes: Record<string, number> = {};
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const input = gen(rand);
    try {
      fn(input);
      ok++;
    } catch (e) {
      if (!(e instanceof BeepkitError)) return { ok, codes, foreign: { input, error: e } };
      codes[e.code] = (codes[e.code] ?? 0) + 1;
    }
  }
  return { ok, codes };
}

/** The BeepkitError code `fn` throws, 'no error', or 'not a BeepkitError'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof BeepkitError ? e.code : 'not a BeepkitError';
  }
  return 'no error';
}
