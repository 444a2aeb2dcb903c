/**
 * `npm run bench [-- name…] [--smoke]`: runs benchmarks, writes
 * bench/results/<name>.json and prints a table.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine, type Bench } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const wanted = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !['lib.ts', 'run.ts'].includes(f) && !f.endsWith('.test.ts'));
const names = files.map((f) => f.replace(/\.ts$/, ''));
const unknown = wanted.filter((w) => !names.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${names.join(', ')}`);
  process.exit(2);
}
const selected = wanted.length ? wanted : names;
mkdirSync(join(here, 'results'), { recursive: true });
const rows: string[][] = [];
let failed = 0;
for (const name of selected) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: Bench };
  const bench = mod.default;
  const t0 = Date.now();
  console.error(`[bench] ${name}: ${bench.description}${smoke ? ' (smoke)' : ''}`);
  try {
    const res = await bench.run({ smoke, repeats: smoke ? 1 : 5, log: (m) => console.error(`[bench] ${name}: ${m}`) });
    const out = { name, date: new Date().toISOString(), machine: machine(), smoke, metrics: res.metrics, goals: res.goals ?? {}, notes: res.notes ?? [] };
    writeFileSync(join(here, 'results', `${name}.json`), JSON.stringify(out, null, 2) + '\n');
    for (const [m, v] of Object.entries(res.metrics)) {
      const g = res.goals?.[m];
      rows.push([name, m, fmt(v.median), fmt(v.min), fmt(v.max), v.unit, g ? `${g.target} ${g.met ? 'met' : 'NOT met'}` : '']);
    }
    console.error(`[bench] ${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed++;
    console.error(`[bench] ${name}: FAILED`, err);
    rows.push([name, 'error', '', '', '', '', String((err as Error).message)]);
  }
}
const head = ['bench', 'metric', 'median', 'min', 'max', 'unit', 'goal'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
process.exitCode = failed ? 1 : 0;

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(4);
}
