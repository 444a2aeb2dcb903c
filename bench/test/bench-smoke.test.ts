/**
 * The benchmarks never rot: `node --import tsx bench/run.ts --smoke --out <tmp>`
 * (small sizes) runs every bench in bench/, each must write its results JSON
 * with the contract's shape ({ name, date, machine, metrics: { m: { median,
 * min, max, unit } }, goals: { m: { target, met } } }) and none may fail.
 * Only shapes are asserted, never figures (the machine is shared).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchNames } from '../report.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchDir = join(root, 'bench');
const benches = benchNames(benchDir);

// the whole smoke run (the e2e field trial included) takes a few minutes on a loaded 2-core machine
t.setTimeout(600_000);

const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);

t.test('npm run bench --smoke: every bench writes a results JSON of the contract', { timeout: 600_000 }, async (t) => {
  const out = t.testdir();
  const env = { ...process.env };
  delete env.HCI_CHANNEL_USER;
  delete env.BENCH_SMOKE;
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, 'run.ts'), '--smoke', '--out', out], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 0, 'the runner exits 0 (no bench failed)');
  if (code !== 0)
    t.comment(
      stderr
        .split('\n')
        .filter((l) => /FAILED|Error|error/.test(l))
        .slice(0, 40)
        .join('\n'),
    );
  t.notMatch(stderr, /\]: FAILED/, 'no bench reported FAILED');
  t.match(stdout, /^bench\s+metric\s+median\s+min\s+max\s+unit\s+goal/m, 'the table is printed');
  t.notMatch(stdout, /wrote .*RESULTS\.md/, 'a smoke run does not rewrite RESULTS.md');
  t.ok(benches.length >= 9, `the benches are found (${benches.join(', ')})`);

  for (const name of benches) {
    const file = join(out, `${name}.json`);
    if (!existsSync(file)) {
      t.fail(`${name}: no results JSON`);
      continue;
    }
    const r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    t.equal(r.name, name, `${name}: name`);
    t.ok(typeof r.date === 'string' && !Number.isNaN(Date.parse(r.date)), `${name}: date is an ISO date`);
    t.ok(typeof r.machine === 'string' && (r.machine as string).length > 5, `${name}: machine`);
    t.equal(r.smoke, true, `${name}: marked smoke`);
    const metrics = r.metrics as Record<string, Record<string, unknown>>;
    t.ok(metrics && typeof metrics === 'object', `${name}: metrics object`);
    // no bench may skip itself: a missing tool fails the run (below), it never writes empty metrics
    t.ok(Object.keys(metrics ?? {}).length > 0, `${name}: has metrics`);
    const bad = Object.entries(metrics ?? {}).filter(
      ([, m]) => !(isNum(m.median) && isNum(m.min) && isNum(m.max) && typeof m.unit === 'string' && m.min <= m.median && m.median <= m.max),
    );
    t.same(
      bad.map(([k]) => k),
      [],
      `${name}: every metric has numeric median/min/max (min ≤ median ≤ max) and a unit`,
    );
    const goals = r.goals as Record<string, Record<string, unknown>>;
    t.ok(goals && typeof goals === 'object', `${name}: goals object`);
    const badGoals = Object.entries(goals ?? {}).filter(
      ([k, g]) => !(typeof g.target === 'string' && /^(<=|>=) /.test(g.target) && typeof g.met === 'boolean' && k in metrics),
    );
    t.same(
      badGoals.map(([k]) => k),
      [],
      `${name}: every goal has a target, a boolean met, and names a metric`,
    );
  }
});

t.test('a bench whose tool is missing fails loudly, naming the package; no results file', { timeout: 120_000 }, async (t) => {
  const out = t.testdir();
  const empty = mkdtempSync(join(os.tmpdir(), 'beepkit-nopath-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  // PATH without mosquitto (node itself is spawned by absolute path)
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: empty };
  delete env.BENCH_SMOKE;
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, 'run.ts'), 'gateway-ingest', 'broker', '--smoke', '--out', out], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.not(code, 0, 'the runner exits non-zero');
  for (const name of ['gateway-ingest', 'broker']) {
    t.match(
      stderr,
      new RegExp(`\\[bench\\] ${name}: FAILED BeepkitError: the ${name} bench needs mosquitto, which is not installed`),
      `${name}: FAILED naming mosquitto`,
    );
    t.notOk(existsSync(join(out, `${name}.json`)), `${name}: no results file`);
  }
  t.match(stderr, /apt-get install -y mosquitto/, 'the install command is printed');
  t.match(stdout, /FAILED: gateway-ingest, broker/, 'the summary names the failed benches');
});
