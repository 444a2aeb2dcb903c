/** Shared inputs and shapes of the published test vectors (protocol/SPEC.md §15). */
import { BeepkitError, toHex } from '../src/index.ts';
import { sha256, utf8 } from '../src/crypto/index.ts';
import { outcome, type Context } from './checks.ts';

/** One example: the bytes, the check that must accept (valid) or refuse it with `code` (invalid). */
export interface Example {
  name: string;
  check: string;
  hex: string;
  [k: string]: unknown;
}
export interface Invalid extends Example {
  code: string;
}

export interface VectorFile {
  kind: string;
  spec: string;
  /** Keys and times the checks need (hex strings, numbers). */
  context: Context;
  /** Inputs (fixed) and intermediate values, for implementers. */
  inputs: Record<string, unknown>;
  valid: Example[];
  invalid: Invalid[];
}

/** Every fixed secret is SHA-256 of a label: `fixed("ca")` = SHA-256("beepkit/vectors/v1/ca"). */
export function fixed(label: string, len = 32): Uint8Array {
  return sha256(utf8(`beepkit/vectors/v1/${label}`)).slice(0, len);
}

/** The fixed day and time of every vector: day 20602 (2026-05-29), 12:05:07 UTC. */
export const DAY = 20_602;
export const NOW_S = DAY * 86_400 + 12 * 3600 + 5 * 60 + 7;
export const NOW_MS = NOW_S * 1000 + 250;

export const hx = (b: Uint8Array): string => toHex(b);

/** A copy of `b` with byte `i` XORed with `x` (default 1). */
export function flip(b: Uint8Array, i: number, x = 1): Uint8Array {
  const c = b.slice();
  c[i < 0 ? c.length + i : i] ^= x;
  return c;
}

/** Builds a file and asserts that every valid example passes its check and every invalid one gets its code. */
export function file(f: VectorFile): VectorFile {
  for (const v of f.valid) {
    const got = outcome(v.check, Buffer.from(v.hex, 'hex'), f.context);
    if (got !== 'OK') throw new BeepkitError('E_STATE', `${f.kind}/${v.name}: valid example refused with ${got}`);
  }
  for (const v of f.invalid) {
    const got = outcome(v.check, Buffer.from(v.hex, 'hex'), f.context);
    if (got !== v.code) throw new BeepkitError('E_STATE', `${f.kind}/${v.name}: expected ${v.code}, got ${got}`);
  }
  return f;
}
