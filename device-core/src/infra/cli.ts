/** The CLIs' output conventions: results as JSON on stdout, errors as one JSON line `{code, message}` on stderr with exit status 2. */
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';

/** Reports `err` on stderr (a BeepkitError as is, anything else as E_IO) and sets exit status 2. */
export function fail(err: unknown): void {
  const e = isBeepkitError(err) ? err : new BeepkitError('E_IO', String((err as Error)?.message ?? err));
  process.stderr.write(JSON.stringify(e.toJSON()) + '\n');
  process.exitCode = 2;
}

/** Prints `v` as indented JSON on stdout. */
export const print = (v: unknown): void => {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
};
