/**
 * `npm run bench [-- name…] [--smoke] [--out <dir>] [--no-report]`: runs
 * benchmarks, writes <out>/<name>.json (default bench/results), prints a
 * table and, after a complete full-size run (no names) into bench/results,
 * rewrites bench/RESULTS.md from its results.
 * Exit 1 when a bench failed: threw (e.g. E_TOOL: a system tool it needs is
 * missing, named with its install command), measured no metrics (no results
 * file is written then), or ran over BENCH_TIMEOUT_S (default 360 s, or the bench's
 * own `timeoutSec` in a full run: the ledger's large open stage).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine, type Bench } from './lib.ts';
import { benchNames, formatTable, readResults, tableRows, writeResultsMarkdown, type ResultFile } from './report.ts';
import { hostNow } from '@beepkit/protocol/clock';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const KNOWN = new Set(['--smoke', '--out', '--no-report', '--help', '-h']);
const badFlag = args.find((a) => a.startsWith('-') && !KNOWN.has(a));
if (args.includes('--help') || args.includes('-h') || badFlag) {
  const usage =
    `usage: npm run bench [-- name…] [--smoke] [--out <dir>] [--no-report]\nbenchmarks: ${benchNames(here).join(', ')}\n` +
    '  --smoke      small sizes (the CI bench smoke test)\n  --out <dir>  results directory (default bench/results; env BENCH_OUT)\n' +
    '  --no-report  do not rewrite bench/RESULTS.md after a complete full-size run\n';
  if (badFlag) {
    process.stderr.write(`unknown option ${badFlag}\n${usage}`);
    process.exit(2);
  }
  process.stdout.write(usage);
  process.exit(0);
}
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const outIdx = args.indexOf('--out');
const defaultOut = join(here, 'results');
const outDir = outIdx >= 0 && args[outIdx + 1] ? resolve(args[outIdx + 1]) : process.env.BENCH_OUT ? resolve(process.env.BENCH_OUT) : defaultOut;
const wanted = args.filter((a, i) => !a.startsWith('--') && !(outIdx >= 0 && i === outIdx + 1));
// RESULTS.md records complete runs only: every bench, full size, into bench/results
const report = !smoke && !args.includes('--no-report') && outDir === defaultOut && wanted.length === 0;
const names = benchNames(here);
const unknown = wanted.filter((w) => !names.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; have: ${names.join(', ')}`);
  process.exit(2);
}
const selected = wanted.length ? wanted : names;
/** A bench that hangs (e.g. a port taken by a concurrent run) fails instead of stalling the whole run. */
const limitOf = (b: Bench): number => Number(process.env.BENCH_TIMEOUT_S ?? (smoke ? undefined : b.timeoutSec) ?? 360);
mkdirSync(outDir, { recursive: true });
const mach = machine();
const runStart = performance.now();
const runDate = hostNow(); // wall-clock start of the run (runStart is monotonic, not a date)
const runLoad = os.loadavg();
const rows: string[][] = [];
const failed: string[] = [];
const durations: string[] = [];
console.error(`[bench] ${selected.length} bench(es)${smoke ? ' (smoke)' : ''} on ${mach}; load average ${runLoad.map((x) => x.toFixed(2)).join(' / ')}`);
for (const name of selected) {
  const t0 = performance.now();
  const loadavg = os.loadavg();
  try {
    const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: Bench };
    const bench = mod.default;
    console.error(`[bench] ${name}: ${bench.description}${smoke ? ' (smoke)' : ''}`);
    let timer: NodeJS.Timeout | undefined;
    const limitSec = limitOf(bench);
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${limitSec} s (BENCH_TIMEOUT_S)`)), limitSec * 1000);
    });
    const res = await Promise.race([bench.run({ smoke, repeats: smoke ? 1 : 5, log: (m) => console.error(`[bench] ${name}: ${m}`) }), limit]).finally(() =>
      clearTimeout(timer),
    );
    // a bench that measured nothing did not do its work: it fails, and no results file claims otherwise
    if (!res.metrics || Object.keys(res.metrics).length === 0) throw new Error(`no metrics measured${res.notes?.length ? `: ${res.notes.join('; ')}` : ''}`);
    const durationSec = (performance.now() - t0) / 1000;
    const out: ResultFile = {
      name,
      date: new Date(hostNow()).toISOString(),
      machine: mach,
      smoke,
      metrics: res.metrics,
      goals: res.goals ?? {},
      notes: res.notes ?? [],
      ...(res.headline ? { headline: res.headline } : {}),
      durationSec,
      loadavg,
    };
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify(out, null, 2) + '\n');
    rows.push(...tableRows(out));
    console.error(`[bench] ${name}: done in ${durationSec.toFixed(1)} s`);
  } catch (err) {
    failed.push(name);
    console.error(`[bench] ${name}: FAILED`, err);
    rows.push([name, 'error', '', '', '', '', String((err as Error).message).slice(0, 200)]);
  }
  durations.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const totalSec = (performance.now() - runStart) / 1000;
for (const l of formatTable(rows)) console.log(l);
console.log(`\n${selected.length} bench(es) in ${totalSec.toFixed(1)} s: ${durations.join(', ')}${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`);
if (report) {
  const path = join(here, 'RESULTS.md');
  writeResultsMarkdown(path, readResults(outDir), {
    date: new Date(runDate).toISOString(),
    machine: mach,
    loadavg: runLoad,
    totalSec,
    benches: selected,
    failed,
  });
  console.log(`wrote ${path}`);
} else if (!smoke && outDir === defaultOut) {
  console.log('bench/RESULTS.md not rewritten: it records complete runs (npm run bench with no names)');
}
process.exitCode = failed.length ? 1 : 0;
// a bench that leaves a handle open must not keep the runner alive
setTimeout(() => process.exit(), 5000).unref();
