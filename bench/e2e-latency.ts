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
 * The agents start precompiled (what `npm ci` gives a device: bin/beepkit.js
 * runs the esbuild bundle): the bench builds a fresh bundle into a temp dir
 * under node_modules/.cache (scripts/build.mjs --outdir; BEEPKIT_DIST) so a stale dist/ in a working
 * tree does not silently measure the tsx start. BENCH_E2E_FROM_SOURCE=1 runs
 * them through tsx instead (BEEPKIT_FROM_SOURCE=1: the before figure). Each
 * agent's start path is read from its BEEPKIT_START_TRACE line and noted.
 * Idle floors in the same run: `node`, `node --import tsx`, the bundle's
 * cli.js, and each start with the agent's code loaded but not running.
 * The trial takes ~70–120 s, so a run is one trial (BENCH_E2E_RUNS for more);
 * the figures are medians over the per-agent samples of all trials.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FieldTrial, parseExpect, type DiagnosisMark } from '@beepkit/trial/demo';
import { goal, summarise, type Bench, type BenchResult, type Metric } from './lib.ts';
import { hostNow } from '@beepkit/protocol/clock';
import { AGENT_ENV, AGENT_NODE_OPTIONS } from '@beepkit/agent/node-options';

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
  /** How each agent started ('precompiled' | 'tsx' | 'unknown'), from its BEEPKIT_START_TRACE line. */
  starts: string[];
  seconds: number;
  ok: boolean;
  notes: string[];
}

async function oneTrial(ctx: { log(m: string): void }): Promise<TrialSample> {
  const tail: string[] = [];
  const trial = new FieldTrial({
    short: true,
    settleMs: 30_000,
    print: (l) => {
      tail.push(l);
      if (tail.length > 40) tail.shift();
    },
  });
  const expect = parseExpect(trial.scenario.expect);
  const highs = Object.entries(expect.alerts)
    .filter(([, levels]) => levels.includes('high') && levels.length === 1)
    .map(([id]) => id);
  let exposed: string[] = []; // the high-alert devices that run an agent (a wearable has none yet)
  const maxRss = new Map<string, number>();
  const starts = new Map<string, string>();
  const statusSeen = new Map<string, number>(); // device → first time /status counted its fingerprint alert
  const t0 = hostNow();
  let stopped = false;

  const rssTimer = setInterval(() => {
    for (const [id, d] of trial.devices) {
      const pid = d.proc?.child?.pid;
      const rss = pid && d.proc?.exitCode === undefined ? vmRss(pid) : undefined;
      if (rss !== undefined) maxRss.set(id, Math.max(maxRss.get(id) ?? 0, rss));
      if (d.proc && !starts.has(id)) {
        const m = d.proc.output.map((l) => /^beepkit: (precompiled|tsx) \((.*?);/.exec(l)).find(Boolean);
        if (m) starts.set(id, m[1] === 'tsx' ? `tsx (${m[2]})` : m[1]);
      }
    }
  }, 250);
  const watch = (async () => {
    // from the endorsement on, poll the exposed agents' /status every 50 ms until each shows its fingerprint alert
    while (!stopped && !trial.diagnosisStep) await sleep(50);
    exposed = highs.filter((id) => trial.devices.get(id)?.proc);
    while (!stopped && !trial.diagnosisStep?.marks.length) await sleep(50);
    while (!stopped && statusSeen.size < exposed.length) {
      await Promise.all(
        exposed
          .filter((id) => !statusSeen.has(id))
          .map(async (id) => {
            const proc = trial.devices.get(id)?.proc;
            const total = alertTotal(await proc?.status());
            const k = fingerprintOrdinal(proc?.alerts ?? []);
            if (k > 0 && total !== undefined && total >= k) statusSeen.set(id, hostNow());
          }),
      );
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
  const seconds = (hostNow() - t0) / 1000;
  const ok = code === 0;
  const marks: DiagnosisMark[] = trial.diagnosisStep?.marks ?? [];
  const first = (k: DiagnosisMark['kind']) => marks.filter((m) => m.kind === k).sort((a, b) => a.startedAt - b.startedAt)[0];
  const solverMark = first('solver-notice');
  const endorseMark = first('endorsement');
  const out: TrialSample = {
    solverToAlertMs: [],
    solverToStatusMs: [],
    endorsementToAlertMs: [],
    rssMB: [...maxRss.values()].map((b) => b / MB),
    starts: [...maxRss.keys()].map((id) => starts.get(id) ?? 'unknown'),
    seconds,
    ok,
    notes: [],
  };
  if (!ok) out.notes.push(`trial outcome did not match the scenario; last lines: ${tail.slice(-8).join(' | ')}`);
  for (const id of exposed) {
    const alerts = trial.devices.get(id)?.proc?.alerts ?? [];
    const fp = solverMark && alerts.find((a) => a.kind === 'fingerprint' && a.at >= solverMark.startedAt - 1000);
    if (solverMark && fp) out.solverToAlertMs.push(fp.at - solverMark.startedAt);
    const seen = statusSeen.get(id);
    if (solverMark && seen !== undefined) out.solverToStatusMs.push(seen - solverMark.startedAt);
    const any = endorseMark && alerts.filter((a) => a.at >= endorseMark.startedAt - 1000).sort((a, b) => a.at - b.at)[0];
    if (endorseMark && any) out.endorsementToAlertMs.push(any.at - endorseMark.startedAt);
    ctx.log(
      `${id}: alerts ${alerts.map((a) => `${a.kind}/${a.level}@${solverMark ? a.at - solverMark.startedAt : '?'}ms`).join(', ') || 'none'} (relative to the solver notice)`,
    );
  }
  if (!solverMark) out.notes.push('the solver published no notice');
  if (exposed.length === 0) out.notes.push(`no exposed agent ran (expected high: ${highs.join(', ') || 'none'})`);
  ctx.log(
    `trial ${seconds.toFixed(0)} s, ok=${ok}, marks ${marks.map((m) => `${m.kind}+${m.startedAt - t0}ms`).join(', ')}, agent max RSS ${[...maxRss].map(([id, b]) => `${id}${exposed.includes(id) ? ' (exposed)' : ''} ${(b / MB).toFixed(1)}`).join(', ')} MB`,
  );
  return out;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Idle children whose VmRSS is a floor under the agents' RSS: node args, run from the repository root. */
function idleArgs(kind: 'node' | 'tsx' | 'dist' | 'tsx-agent' | 'dist-agent', dist?: string): string[] {
  const idle = 'setTimeout(() => {}, 30000)';
  const cli = dist ? pathToFileURL(join(dist, 'cli.js')).href : '';
  switch (kind) {
    case 'node':
      return ['-e', idle];
    case 'tsx':
      return ['--import', 'tsx', '-e', idle];
    case 'dist':
      return ['--input-type=module', '-e', `await import(${JSON.stringify(cli)}); ${idle}`];
    // the agent's code loaded (the agent cli chunk / its sources), nothing started
    case 'tsx-agent':
      return ['--import', 'tsx', '--input-type=module', '-e', `await import('@beepkit/agent/cli'); ${idle}`];
    case 'dist-agent':
      return ['--input-type=module', '-e', `process.setSourceMapsEnabled(true); await (await import(${JSON.stringify(cli)})).WORKSPACE_CLIS.agent(); ${idle}`];
  }
}

/** Builds the bundle into a temp dir inside the repository (its imports of third-party packages resolve from there); undefined (and why) when it cannot. */
async function buildBundle(): Promise<{ dir?: string; why?: string }> {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'beepkit-bench-dist-'));
  const c = spawn(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--outdir', join(dir, 'dist'), '--quiet'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => c.on('close', r));
  if (code === 0) return { dir };
  rmSync(dir, { recursive: true, force: true });
  return { why: err.trim() || `build exited ${code}` };
}

/** VmRSS of an idle child after 1.5 s: the runtime floor under the agents' RSS (same run). */
async function idleRss(args: string[]): Promise<number> {
  const c = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  try {
    await sleep(1500);
    const rss = c.pid ? vmRss(c.pid) : undefined;
    if (rss === undefined) throw new Error(`idle node ${args.join(' ')}: no VmRSS (exited ${c.exitCode})`);
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
    const fromSource = process.env.BENCH_E2E_FROM_SOURCE === '1';
    const bundle = await buildBundle();
    const dist = bundle.dir && join(bundle.dir, 'dist');
    const saved = {
      BEEPKIT_DIST: process.env.BEEPKIT_DIST,
      BEEPKIT_FROM_SOURCE: process.env.BEEPKIT_FROM_SOURCE,
      BEEPKIT_START_TRACE: process.env.BEEPKIT_START_TRACE,
      BEEPKIT_TRIAL_AGENT_V8_DEFAULTS: process.env.BEEPKIT_TRIAL_AGENT_V8_DEFAULTS,
    };
    const all: TrialSample[] = [];
    // BENCH_E2E_BASELINE=1: each trial is preceded by one whose agents start without the agent process env
    const baseline = process.env.BENCH_E2E_BASELINE === '1';
    const before: TrialSample[] = [];
    const floor = { node: [] as number[], tsx: [] as number[], dist: [] as number[], tsxAgent: [] as number[], distAgent: [] as number[] };
    try {
      if (dist) process.env.BEEPKIT_DIST = dist;
      if (fromSource) process.env.BEEPKIT_FROM_SOURCE = '1';
      else delete process.env.BEEPKIT_FROM_SOURCE;
      process.env.BEEPKIT_START_TRACE = '1';
      for (let i = 0; i < runs; i++) {
        if (baseline) {
          // the same trial with the agents on V8's and malloc's defaults (no agentProcessEnv), just before
          process.env.BEEPKIT_TRIAL_AGENT_V8_DEFAULTS = '1';
          try {
            before.push(await oneTrial(ctx));
          } finally {
            delete process.env.BEEPKIT_TRIAL_AGENT_V8_DEFAULTS;
          }
        }
        all.push(await oneTrial(ctx));
      }
      for (let i = 0; i < 3; i++) {
        floor.node.push(await idleRss(idleArgs('node')));
        floor.tsx.push(await idleRss(idleArgs('tsx')));
        floor.tsxAgent.push(await idleRss(idleArgs('tsx-agent')));
        if (dist) floor.dist.push(await idleRss(idleArgs('dist', dist)));
        if (dist) floor.distAgent.push(await idleRss(idleArgs('dist-agent', dist)));
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      if (bundle.dir) rmSync(bundle.dir, { recursive: true, force: true });
    }
    const starts = all.flatMap((s) => s.starts);
    const startNote = `agents started ${fromSource ? 'through tsx (BENCH_E2E_FROM_SOURCE=1)' : dist ? 'from a bundle built for this run (scripts/build.mjs; set BENCH_E2E_FROM_SOURCE=1 for the tsx start)' : `through tsx: no bundle (${bundle.why})`}; per agent: ${[...new Set(starts)].map((k) => `${starts.filter((x) => x === k).length}× ${k}`).join(', ')}`;
    const cat = (k: 'solverToAlertMs' | 'solverToStatusMs' | 'endorsementToAlertMs' | 'rssMB') => all.flatMap((s) => s[k]);
    const need = (xs: number[], what: string): number[] => {
      if (xs.length === 0) throw new Error(`e2e-latency: no ${what} measured (${all.flatMap((s) => s.notes).join('; ') || 'no alert on the exposed agent'})`);
      return xs;
    };
    const metrics: Record<string, Metric> = {
      solver_notice_to_alert_ms: summarise(need(cat('solverToAlertMs'), 'solver → alert latency'), 'ms'),
      endorsement_to_first_alert_ms: summarise(need(cat('endorsementToAlertMs'), 'endorsement → alert latency'), 'ms'),
      agent_rss_max: summarise(need(cat('rssMB'), 'agent RSS'), 'MB'),
      trial_seconds: summarise(
        all.map((s) => s.seconds),
        's',
      ),
      idle_node_rss: summarise(floor.node, 'MB'),
      idle_node_tsx_rss: summarise(floor.tsx, 'MB'),
      idle_tsx_agent_code_rss: summarise(floor.tsxAgent, 'MB'),
    };
    if (floor.dist.length) metrics.idle_node_dist_rss = summarise(floor.dist, 'MB');
    if (floor.distAgent.length) metrics.idle_dist_agent_code_rss = summarise(floor.distAgent, 'MB');
    const floorUnder = fromSource || !floor.dist.length ? metrics.idle_node_tsx_rss : metrics.idle_node_dist_rss;
    if (cat('solverToStatusMs').length) metrics.solver_notice_to_status_ms = summarise(cat('solverToStatusMs'), 'ms');
    const beforeRss = before.flatMap((s) => s.rssMB);
    const beforeLat = before.flatMap((s) => s.solverToAlertMs);
    if (beforeRss.length) {
      metrics.agent_rss_max_v8_defaults = summarise(beforeRss, 'MB');
      metrics.agent_rss_max_ratio = summarise([metrics.agent_rss_max.max / metrics.agent_rss_max_v8_defaults.max], 'x');
    }
    if (beforeLat.length) metrics.solver_notice_to_alert_ms_v8_defaults = summarise(beforeLat, 'ms');
    return {
      metrics,
      goals: {
        solver_notice_to_alert_ms: goal(metrics.solver_notice_to_alert_ms.max, '<=', 5000),
        agent_rss_max: goal(metrics.agent_rss_max.max, '<=', 80),
      },
      notes: [
        `${runs} trial(s) of the café scenario, short mode (×60), ${ctx.smoke ? 'smoke run: the same trial as the full run' : 'one trial is ~70–120 s so it is not repeated 5 times'}; latencies are per exposed agent (the scenario's high-alert agents with a running agent process), RSS is the max VmRSS of each of the agent processes (sampled every 250 ms), median/min/max across agents; goals are checked against the max`,
        "solver_notice_to_alert_ms: start of the solver's notification publication (ledger append + broadcast) → the agent's alert log time; solver_notice_to_status_ms: → first /status poll (every 50 ms) showing the fingerprint alert; endorsement_to_first_alert_ms: start of the endorsement append → the first alert of any kind (venue, Bluetooth or fingerprint)",
        startNote,
        `baseline in the same run (3 samples each, median): an idle \`node\` ${metrics.idle_node_rss.median.toFixed(1)} MB, \`node --import tsx\` ${metrics.idle_node_tsx_rss.median.toFixed(1)} MB${metrics.idle_node_dist_rss ? `, \`node dist/cli.js\` (the bundle's entry: commander only) ${metrics.idle_node_dist_rss.median.toFixed(1)} MB` : ''}; with the agent's code loaded and idle: through tsx ${metrics.idle_tsx_agent_code_rss.median.toFixed(1)} MB${metrics.idle_dist_agent_code_rss ? `, from the bundle ${metrics.idle_dist_agent_code_rss.median.toFixed(1)} MB` : ''}; the agents hold ~${(metrics.agent_rss_max.median - floorUnder.median).toFixed(0)} MB above the floor of their start (median agent)`,
        `agents start with NODE_OPTIONS ${JSON.stringify(AGENT_NODE_OPTIONS.join(' '))} and ${Object.entries(AGENT_ENV)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} (agent/src/app/node-options.ts, as agent/systemd/beepkit-agent.service gives a device)` +
          (before.length
            ? `; *_v8_defaults: ${before.length} trial(s) just before each, the agents without them (BENCH_E2E_BASELINE=1), agent_rss_max_ratio = max with ÷ max without`
            : ''),
        ...before.flatMap((s) => s.notes.map((n) => `(V8 defaults trial) ${n}`)),
        ...all.flatMap((s) => s.notes),
      ],
    };
  },
};
export default bench;
