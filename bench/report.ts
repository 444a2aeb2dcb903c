/**
 * Result files and the bench/RESULTS.md report. Each bench writes
 * bench/results/<name>.json (the contract in lib.ts, plus additive fields:
 * smoke, notes, durationSec, loadavg); RESULTS.md is rebuilt from them after
 * each complete full-size run.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Goal, Metric } from './lib.ts';

export interface ResultFile {
  name: string;
  date: string;
  machine: string;
  metrics: Record<string, Metric>;
  goals: Record<string, Goal>;
  smoke?: boolean;
  notes?: string[];
  /** Wall-clock seconds the bench took. */
  durationSec?: number;
  /** 1/5/15-minute load average when the bench started. */
  loadavg?: number[];
  /** Metrics the markdown table shows besides those with a goal (absent: all). */
  headline?: string[];
}

/** Files in bench/ that are not benchmarks. */
export const NOT_BENCHES = ['lib.ts', 'run.ts', 'report.ts'];

/** Names of the benchmarks in `dir` (bench/<name>.ts), sorted. */
export function benchNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !NOT_BENCHES.includes(f) && !f.endsWith('.test.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(4);
}

/** Rows of the console table: bench, metric, median, min, max, unit, goal. */
export function tableRows(r: Pick<ResultFile, 'name' | 'metrics' | 'goals'>): string[][] {
  return Object.entries(r.metrics).map(([m, v]) => {
    const g = r.goals[m];
    return [r.name, m, fmt(v.median), fmt(v.min), fmt(v.max), v.unit, g ? `${g.target} ${g.met ? 'met' : 'NOT met'}` : ''];
  });
}

export function formatTable(rows: string[][]): string[] {
  const head = ['bench', 'metric', 'median', 'min', 'max', 'unit', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** Full-size results in `dir`, by bench name (smoke results are skipped). */
export function readResults(dir: string): ResultFile[] {
  if (!existsSync(dir)) return [];
  const out: ResultFile[] = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultFile;
      if (!r.smoke && r.name && r.metrics) out.push(r);
    } catch {
      // a half-written or foreign file: not part of the report
    }
  }
  return out;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export interface RunInfo {
  date: string;
  machine: string;
  loadavg: number[];
  totalSec: number;
  benches: string[];
  failed: string[];
}

/** The markdown report of the latest full-size results. */
export function resultsMarkdown(results: ResultFile[], run: RunInfo): string {
  const la = (l?: number[]) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : '?');
  const L: string[] = [];
  L.push('# Benchmark results', '');
  L.push(
    'Written by `npm run bench` (bench/run.ts) after every complete full-size run (all benches; a run of some benches or a smoke run leaves this file alone); the rows come from bench/results/<name>.json (not committed).',
    '',
  );
  L.push(
    `- Last run: ${run.date}, ${run.benches.length} bench(es) (${run.benches.join(', ')}) in ${Math.round(run.totalSec)} s${run.failed.length ? `; FAILED: ${run.failed.join(', ')}` : ''}`,
  );
  L.push(`- Machine: ${run.machine}`);
  L.push(`- Load average at the start of the run (1/5/15 min): ${la(run.loadavg)}`);
  L.push(
    '- The machine is shared (other engineers build and test on it at the same time): figures vary with its load, wall-clock rates most; CPU-second rates and same-run ratios are the steadier ones.',
  );
  L.push(
    '- Every figure is the median of the repeats (5 unless the bench notes say otherwise) with min and max; ratios compare against a baseline measured in the same run.',
  );
  L.push(
    '- Run: `npm run bench` (all), `npm run bench -- <name>…` (some), `--smoke` (small sizes, as CI runs it; never rewrites this file), `--out <dir>`; `BENCH_TIMEOUT_S` (per bench, default 360 s, or a bench’s own limit: the ledger’s is 20 min, plus 15 min per million entries of BENCH_LEDGER_OPEN_LARGE_ENTRIES).',
  );
  const missed = results.flatMap((r) =>
    Object.entries(r.goals)
      .filter(([, g]) => !g.met)
      .map(([m, g]) => `${r.name} ${m} (${g.target})`),
  );
  L.push(`- Goals not met: ${missed.length ? missed.join('; ') : 'none'}.`, '');
  L.push('| bench | metric | median | min | max | unit | goal | met |', '|---|---|---:|---:|---:|---|---|---|');
  const left: string[] = [];
  for (const r of results) {
    const shown = Object.entries(r.metrics).filter(([m]) => !r.headline || r.headline.includes(m) || r.goals[m]);
    const hidden = Object.keys(r.metrics).length - shown.length;
    if (hidden) left.push(`${r.name}: ${hidden} more metrics in the run's bench/results/${r.name}.json and its console table`);
    for (const [m, v] of shown) {
      const g = r.goals[m];
      L.push(
        `| ${r.name} | ${m} | ${fmt(v.median)} | ${fmt(v.min)} | ${fmt(v.max)} | ${cell(v.unit)} | ${g ? cell(g.target) : ''} | ${g ? (g.met ? 'yes' : '**no**') : ''} |`,
      );
    }
  }
  if (left.length) L.push('', `Left out of the table: ${left.join('; ')}.`);
  L.push('', '## Per bench', '');
  L.push('| bench | date | duration | load at start |', '|---|---|---:|---|');
  for (const r of results) L.push(`| ${r.name} | ${r.date} | ${r.durationSec !== undefined ? `${r.durationSec.toFixed(1)} s` : '?'} | ${la(r.loadavg)} |`);
  for (const r of results) {
    L.push('', `### ${r.name}`, '');
    if (r.machine !== run.machine) L.push(`- machine: ${r.machine}`);
    for (const n of r.notes ?? []) L.push(`- ${n.replace(/\n/g, ' ')}`);
    if (!r.notes?.length) L.push('- (no notes)');
  }
  return L.join('\n') + '\n';
}

export function writeResultsMarkdown(path: string, results: ResultFile[], run: RunInfo): void {
  writeFileSync(path, resultsMarkdown(results, run));
}
