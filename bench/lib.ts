/**
 * Bench contract. Each benchmark is a module `bench/<name>.ts` exporting
 * `default: Bench`. The runner (`npm run bench [-- name…] [--smoke]`) calls
 * `run(ctx)`, which returns metrics; each metric is measured `ctx.repeats` times
 * and reported as median/min/max. Comparisons are ratios against a baseline
 * measured in the same run. Results go to bench/results/<name>.json:
 * { name, date, machine, metrics: { m: { median, min, max, unit } }, goals: { m: { target, met } } }
 */
import os from 'node:os';

export interface BenchContext {
  /** Small sizes for CI smoke runs. */
  smoke: boolean;
  /** How many repeats a metric should take (median reported). */
  repeats: number;
  log(msg: string): void;
}

export interface Metric {
  median: number;
  min: number;
  max: number;
  unit: string;
}

export interface Goal {
  /** e.g. '>= 50000' or '<= 0.2' */
  target: string;
  met: boolean;
}

export interface BenchResult {
  metrics: Record<string, Metric>;
  goals?: Record<string, Goal>;
  notes?: string[];
  /** The metrics bench/RESULTS.md shows (besides those with a goal) when a bench measures too many for one table; all are in its JSON. */
  headline?: string[];
}

export interface Bench {
  name: string;
  description: string;
  /** Its time limit in a full (not smoke) run when BENCH_TIMEOUT_S is not set, s (default 360). */
  timeoutSec?: number;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function summarise(samples: number[], unit: string): Metric {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], unit };
}

/** Runs `fn` `repeats` times; each call returns a sample (e.g. ops/s). */
export async function sample(repeats: number, fn: () => number | Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) out.push(await fn());
  return out;
}

/** Operations per second of a synchronous loop body run `n` times. */
export function opsPerSec(n: number, body: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) body(i);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / dt;
}

export function goal(value: number, op: '>=' | '<=', target: number): Goal {
  return { target: `${op} ${target}`, met: op === '>=' ? value >= target : value <= target };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${os.platform()}-${os.arch()}`;
}
