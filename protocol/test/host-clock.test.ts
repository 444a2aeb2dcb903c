/**
 * One clock through the system (issue 14): nothing in the repository reads the
 * host's wall clock except the clock modules. The lint rule covers TypeScript;
 * this scan covers every source file, JavaScript and the dashboard's browser
 * code included, and proves it would catch a planted read.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT as root, sourceFiles as sources } from './source-files.ts';

// the clock modules, and this file (its planted examples)
const CLOCK_MODULES = new Set(['protocol/src/clock.ts', 'firmware-stubs/src/sim/clock.ts', 'protocol/test/host-clock.test.ts']);
const READS = /\bDate\.now\b|new Date\(\s*\)/;

/** Code lines that read the host clock (comments aside). */
export function hostClockReads(text: string): number[] {
  const out: number[] = [];
  text.split('\n').forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '').trim();
    if (code.startsWith('*') || code.startsWith('/*')) return;
    if (READS.test(code)) out.push(i + 1);
  });
  return out;
}

t.test('the scan catches a planted read, and not a comment or an argument', async (t) => {
  t.same(hostClockReads('const a = 1;\nconst t = Date.now();\n// Date.now() in a comment\n'), [2]);
  t.same(hostClockReads('const d = new Date();\nconst e = new Date(ms);\n * new Date() in a doc comment'), [1]);
  t.same(hostClockReads('const now = o.now ?? Date.now;'), [1], 'a reference counts too');
});

t.test('no host clock read outside the clock modules', async (t) => {
  const found: string[] = [];
  let files = 0;
  for (const f of sources(root)) {
    const rel = relative(root, f);
    files++;
    if (CLOCK_MODULES.has(rel)) continue;
    for (const line of hostClockReads(readFileSync(f, 'utf8'))) found.push(`${rel}:${line}`);
  }
  t.ok(files > 300, `${files} source files scanned`);
  t.same(found, [], 'reads of Date.now / new Date() outside protocol/src/clock.ts and firmware-stubs/src/sim/clock.ts');
});
