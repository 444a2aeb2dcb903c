/** Small helpers shared by the solving CLIs (diagnose, solver, venue, risk). */
import { readFileSync, writeFileSync } from 'node:fs';
import { BeepkitError, fromHex } from '@beepkit/protocol';
import { fail } from '@beepkit/device-core/infra/cli';

export { fail };

export async function guard(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    fail(err);
  }
}

/** Prints JSON to stdout, or writes it to `out`. */
export function emit(v: unknown, out?: string): void {
  const text = JSON.stringify(v, null, 2) + '\n';
  if (out) writeFileSync(out, text, { mode: 0o644 });
  else process.stdout.write(text);
}

/** A key or byte string: a file holding raw bytes of `len` or hex, or a hex literal. */
export function readBytes(arg: string, what: string, len?: number): Uint8Array {
  let b: Uint8Array;
  if (/^[0-9a-fA-F]+$/.test(arg) && (len === undefined || arg.length === len * 2)) b = fromHex(arg, what);
  else {
    let raw: Buffer;
    try {
      raw = readFileSync(arg);
    } catch (cause) {
      throw new BeepkitError('E_IO', `${what}: cannot read ${arg}`, { cause });
    }
    b = len !== undefined && raw.length === len ? new Uint8Array(raw) : fromHex(raw.toString('utf8'), what);
  }
  if (len !== undefined && b.length !== len) throw new BeepkitError('E_KEY', `${what}: expected ${len} bytes`);
  return b;
}

export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', `${path}: not readable JSON`, { cause });
  }
}
