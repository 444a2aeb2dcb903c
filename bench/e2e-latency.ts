/**
 * e2e-latency: the café field trial on virtual radios (FieldTrial, short mode:
 * sim + gateway + 4 `beepkit agent run` children + diagnosis + solver), run in
 * this process with its narration kept quiet. Measures, on every agent the
 * scenario expects a high alert for (the exposed ones):
 * - solver notice → alert: from the start of the solver's notice publication
 *   (DiagnosisStep.marks) to the agent's alert (its log time; AlertLine.at) —
 *   goal ≤ 5 s; and to when the alert first shows in its /status (polled every
 *   50 ms from the endorsement on);
 * - endorsement → first alert of any kind (venue, Bluetooth or fingerprint);
 * and the agents' resident memory: max VmRSS (/proc/<pid>/status, sampled
 * every 250 ms) of each agent process over the run — goal ≤ 80 MB.
 * The trial takes ~70–120 s, so a run is one trial (BENCH_E2E_RUNS for more);
 * the figures are medians over the per-agent samples of all trials.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FieldTrial, parseExpect, type DiagnosisMark } from '../hil-tests/src/demo/index.ts';
import { goal, summarise, type Bench, type BenchResult, type Metric } from './lib.ts';

const MB = 1e6;

/** Resident set size of a process in bytes, or undefined when it is gone. */
export function vmRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** alerts.total of an agent /status document (counts only: the status names no alert). */
function alertTotal(raw: unknown): number | undefined {
  const n = (raw as { alerts?: { total?: unknown } } | undefined)?.alerts?.total;
  return typeof n === 'number' ? n : undefined;
}

/** The ordinal (1-based) of the agent's first fingerprint alert line, or 0. */
function fingerprintOrdinal(alerts: { kind: string }[]): number {
  return alerts.findIndex((a) => a.kind === 'fingerprint') + 1;
}

interface TrialSample {
  solverToAlertMs: number[];
  solverToStatusMs: number[];
  endorsementToAlertMs: number[];
  rssMB: number[];
  seconds: number;
  ok: boolean;
  notes: string[];
}

async function oneTrial(ctx: { log(m: string): void }): Promise<TrialSample> {
  const tail: string[] = [];
  const trial = new FieldTrial({ short: true, settleMs: 30_000, print: (l) => {
    tail.push(l);
    if (tail.length > 40) tail.shift();
  } });
  const expect = parseExpect(trial.scenario.expect);
  const highs = Object.entries(expect.alerts).filter(([, levels]) => levels.includes('high') && levels.length === 1).map(([id]) => id);
  let exposed: string[] = []; // the high-alert devices that run an agent (a wearable has none yet)
  const maxRss = new Map<string, number>();
  const statusSeen = new Map<string, number>(); // device → first time /status counted its fingerprint alert
  const t0 = Date.now();
  let stopped = false;

  const rssTimer = setInterval(() => {
    for (const [id, d] of trial.devices) {
      const pid = d.proc?.child?.pid;
      const rss = pid && d.proc?.exitCode === undefined ? vmRss(pid) : undefined;
      if (rss !== undefined) maxRss.set(id, Math.max(maxRss.get(id) ?? 0, rss));
    }
  }, 250);
  const watch = (async () => {
    // from the endorsement on, poll the exposed agents' /status every 50 ms until each shows its fingerprint alert
    while (!stopped && !trial.diagnosisStep) await sleep(50);
    exposed = highs.filter((id) => trial.devices.get(id)?.proc);
    while (!stopped && !trial.diagnosisStep?.marks.length) await sleep(50);
    while (!stopped && statusSeen.size < exposed.length) {
      await Promise.all(exposed.filter((id) => !statusSeen.has(id)).map(async (id) => {
        const proc = trial.devices.get(id)?.proc;
        const total = alertTotal(await proc?.status());
        const k = fingerprintOrdinal(proc?.alerts ?? []);
        if (k > 0 && total !== undefined && total >= k) statusSeen.set(id, Date.now());
      }));
      await sleep(50);
    }
  })();

  let code: number | undefined;
  try {
    code = (await trial.run()).code;
  } finally {
    stopped = true;
    clearInterval(rssTimer);
    await watch;
    await trial.stop();
  }
  const seconds = (Date.now() - t0) / 1000;
  const ok = code === 0;
  const marks: DiagnosisMark[] = trial.diagnosisStep?.marks ?? [];
  const first = (k: DiagnosisMark['kind']) => marks.filter((m) => m.kind === k).sort((a, b) => a.startedAt - b.startedAt)[0];
  const solverMark = first('solver-notice');
  const endorseMark = first('endorsement');
  const out: TrialSample = { solverToAlertMs: [], solverToStatusMs: [], endorsementToAlertMs: [], rssMB: [...maxRss.values()].map((b) => b / MB), seconds, ok, notes: [] };
  if (!ok) out.notes.push(`trial outcome did not match the scenario; last lines: ${tail.slice(-8).join(' | ')}`);
  for (const id of exposed) {
    const alerts = trial.devices.get(id)?.proc?.alerts ?? [];
    const fp = solverMark && alerts.find((a) => a.kind === 'fingerprint' && a.at >= solverMark.startedAt - 1000);
    if (solverMark && fp) out.solverToAlertMs.push(fp.at - solverMark.startedAt);
    const seen = statusSeen.get(id);
    if (solverMark && seen !== undefined) out.solverToStatusMs.push(seen - solverMark.startedAt);
    const any = endorseMark && alerts.filter((a) => a.at >= endorseMark.startedAt - 1000).sort((a, b) => a.at - b.at)[0];
    if (endorseMark && any) out.endorsementToAlertMs.push(any.at - endorseMark.startedAt);
    ctx.log(`${id}: alerts ${alerts.map((a) => `${a.kind}/${a.level}@${solverMark ? a.at - solverMark.startedAt : '?'}ms`).join(', ') || 'none'} (relative to the solver notice)`);
  }
  if (!solverMark) out.notes.push('the solver published no notice');
  if (exposed.length === 0) out.notes.push(`no exposed agent ran (expected high: ${highs.join(', ') || 'none'})`);
  ctx.log(`trial ${seconds.toFixed(0)} s, ok=${ok}, marks ${marks.map((m) => `${m.kind}+${m.startedAt - t0}ms`).join(', ')}, agent max RSS ${out.rssMB.map((x) => x.toFixed(1)).join('/')} MB`);
  return out;
}

/** VmRSS of an idle `node [--import tsx]` child after 1.5 s: the runtime floor under the agents' RSS (same run). */
async function idleRss(withTsx: boolean): Promise<number> {
  const c = spawn(process.execPath, [...(withTsx ? ['--import', 'tsx'] : []), '-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    await sleep(1500);
    const rss = c.pid ? vmRss(c.pid) : undefined;
    if (rss === undefined) throw new Error('idle node: no VmRSS');
    return rss / MB;
  } finally {
    c.kill('SIGKILL');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const bench: Bench = {
  name: 'e2e-latency',
  description: 'café field trial on virtual radios: solver notice / endorsement → alert on the exposed agent, agent RSS',
  async run(ctx): Promise<BenchResult> {
    const runs = Math.max(1, Number(process.env.BENCH_E2E_RUNS ?? 1));
    const all: TrialSample[] = [];
    for (let i = 0; i < runs; i++) all.push(await oneTrial(ctx));
    const floor = { node: [] as number[], tsx: [] as number[] };
    for (let i = 0; i < 3; i++) {
      floor.node.push(await idleRss(false));
      floor.tsx.push(await idleRss(true));
    }
    const cat = (k: 'solverToAlertMs' | 'solverToStatusMs' | 'endorsementToAlertMs' | 'rssMB') => all.flatMap((s) => s[k]);
    const need = (xs: number[], what: string): number[] => {
      if (xs.length === 0) throw new Error(`e2e-latency: no ${what} measured (${all.flatMap((s) => s.notes).join('; ') || 'no alert on the exposed agent'})`);
      return xs;
    };
    const metrics: Record<string, Metric> = {
      solver_notice_to_alert_ms: summarise(need(cat('solverToAlertMs'), 'solver → alert latency'), 'ms'),
      endorsement_to_first_alert_ms: summarise(need(cat('endorsementToAlertMs'), 'endorsement → alert latency'), 'ms'),
      agent_rss_max: summarise(need(cat('rssMB'), 'agent RSS'), 'MB'),
      trial_seconds: summarise(all.map((s) => s.seconds), 's'),
      idle_node_rss: summarise(floor.node, 'MB'),
      idle_node_tsx_rss: summarise(floor.tsx, 'MB'),
    };
    if (cat('solverToStatusMs').length) metrics.solver_notice_to_status_ms = summarise(cat('solverToStatusMs'), 'ms');
    return {
      metrics,
      goals: {
        solver_notice_to_alert_ms: goal(metrics.solver_notice_to_alert_ms.max, '<=', 5000),
        agent_rss_max: goal(metrics.agent_rss_max.max, '<=', 80),
      },
      notes: [
        `${runs} trial(s) of the café scenario, short mode (×60), ${ctx.smoke ? 'smoke run: the same trial as the full run' : 'one trial is ~70–120 s so it is not repeated 5 times'}; latencies are per exposed agent (the scenario's high-alert agents with a running agent process), RSS is the max VmRSS of each of the agent processes (sampled every 250 ms), median/min/max across agents; goals are checked against the max`,
        'solver_notice_to_alert_ms: start of the solver\'s notification publication (ledger append + broadcast) → the agent\'s alert log time; solver_notice_to_status_ms: → first /status poll (every 50 ms) showing the fingerprint alert; endorsement_to_first_alert_ms: start of the endorsement append → the first alert of any kind (venue, Bluetooth or fingerprint)',
        `baseline in the same run: an idle \`node\` is ${summarise(floor.node, 'MB').median.toFixed(1)} MB, an idle \`node --import tsx\` (how \`beepkit agent run\` starts: no build step) ${summarise(floor.tsx, 'MB').median.toFixed(1)} MB resident (3 samples each): the agents hold ~${(metrics.agent_rss_max.median - summarise(floor.tsx, 'MB').median).toFixed(0)} MB above that floor (median agent)`,
        ...all.flatMap((s) => s.notes),
      ],
    };
  },
};
export default bench;
