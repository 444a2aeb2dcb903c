/** Runs `node --import tsx hil-tests/src/run.ts …` as a child; resolves with its exit code and stdout. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isBeepkitError } from '@beepkit/protocol';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function runHil(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'hil-tests/src/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill('SIGTERM'), timeoutMs);
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

export const CI_SUITES = ['sensing', 'trust', 'uplink', 'notification', 'carer'];

/** `CODE message` of the BeepkitError `fn` throws ('no error' when it returns). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isBeepkitError(e) ? `${e.code} ${e.message}` : `not a BeepkitError: ${String(e)}`;
  }
  return 'no error';
}
