/**
 * The suite runner: runs the chosen suites in order on one rig context, each
 * as named steps; a step that needs what the rig lacks is skipped with its
 * reason; prints per-suite results and `N passed, N failed, N skipped`.
 */
import { isBeepkitError } from '@beepkit/protocol';
import { Skip, type HilContext } from './context.ts';

export type StepFn = (name: string, fn: () => Promise<void>) => Promise<boolean>;

export interface Suite {
  name: string;
  /** Runs in CI / by default (soak does not). */
  ci: boolean;
  description: string;
  /** A reason to skip the whole suite on this rig, or undefined. */
  requires?: (ctx: HilContext) => string | undefined | Promise<string | undefined>;
  run: (ctx: HilContext, step: StepFn) => Promise<void>;
}

export interface StepResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  detail?: string;
  ms: number;
}
export interface SuiteResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  steps: StepResult[];
  ms: number;
}

function describe(e: unknown): string {
  return isBeepkitError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
}

/** Runs one suite; never throws. */
export async function runSuite(s: Suite, ctx: HilContext, print: (l: string) => void): Promise<SuiteResult> {
  const t0 = performance.now();
  const steps: StepResult[] = [];
  print(`suite ${s.name}: ${s.description}`);
  const done = (status: SuiteResult['status'], reason?: string): SuiteResult => {
    const r: SuiteResult = { name: s.name, status, steps, ms: Math.round(performance.now() - t0), ...(reason ? { reason } : {}) };
    print(`suite ${s.name}: ${status.toUpperCase()}${reason ? ` (${reason})` : ''} in ${(r.ms / 1000).toFixed(1)} s`);
    return r;
  };
  try {
    const why = await s.requires?.(ctx);
    if (why) return done('skipped', why);
  } catch (e) {
    return done('failed', describe(e));
  }
  const step: StepFn = async (name, fn) => {
    const st = performance.now();
    try {
      await fn();
      const ms = Math.round(performance.now() - st);
      steps.push({ name, status: 'passed', ms });
      print(`  ok    ${name} (${(ms / 1000).toFixed(1)} s)`);
      return true;
    } catch (e) {
      const skipped = e instanceof Skip;
      steps.push({ name, status: skipped ? 'skipped' : 'failed', detail: skipped ? e.reason : describe(e), ms: Math.round(performance.now() - st) });
      print(`  ${skipped ? 'skip' : 'FAIL'}  ${name}: ${skipped ? e.reason : describe(e)}`);
      return false;
    }
  };
  try {
    await s.run(ctx, step);
  } catch (e) {
    if (e instanceof Skip) return done('skipped', e.reason);
    steps.push({ name: '(suite)', status: 'failed', detail: describe(e), ms: 0 });
    print(`  FAIL  (suite): ${describe(e)}`);
  }
  if (steps.some((x) => x.status === 'failed')) return done('failed');
  if (!steps.some((x) => x.status === 'passed'))
    return done(
      'skipped',
      steps
        .map((x) => x.detail)
        .filter(Boolean)
        .join('; ') || 'nothing ran',
    );
  return done('passed');
}

/** The summary line. */
export function summaryLine(rs: SuiteResult[]): string {
  const n = (st: SuiteResult['status']): number => rs.filter((r) => r.status === st).length;
  return `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`;
}
