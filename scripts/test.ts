/**
 * `npm test [-- tap args…]`: runs tap with $BEEPKIT_SKIPS_FILE set to a fresh
 * temp file; every test skipped for a missing system tool records itself there
 * (scripts/tools.ts `missing`). Ends with one line naming what was skipped and
 * the command that installs it; under CI=true any such skip fails the run.
 * Exit status: tap's, or 1 for a skip under CI.
 * BEEPKIT_TEST_CWD: run tap in that directory (its own tap project, so its own .tap/): a test that runs
 * this script inside `npm test` must not share the outer run's .tap/, whose processinfo tap clears at start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSkips, skipSummary } from './tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'beepkit-skips-'));
const file = join(dir, 'skips.jsonl');
const tap = join(root, 'node_modules', '.bin', 'tap');
const cwd = process.env.BEEPKIT_TEST_CWD || root;
const child = spawn(tap, process.argv.slice(2), { cwd, stdio: 'inherit', env: { ...process.env, BEEPKIT_SKIPS_FILE: file } });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
const line = skipSummary(readSkips(file));
rmSync(dir, { recursive: true, force: true });
let exit = code;
if (line) {
  const ci = process.env.CI === 'true';
  console.log(`${line}${ci ? ' — CI=true: a skipped suite fails the run' : ''}`);
  if (ci) exit = exit || 1;
}
process.exit(exit);
