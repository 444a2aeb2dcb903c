// Missing dependencies are loud (issue 14, item 6): scripts/tools.ts finds mosquitto, gpsd and chromium on
// PATH (absence simulated by narrowing PATH), records each skip, and `npm test` (scripts/test.ts) ends with
// one line naming what was skipped and the command that installs it; under CI=true such a skip fails the run.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, installCommand, missing, readSkips, requireTool, skipSummary } from '../../scripts/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(os.tmpdir(), 'beepkit-tools-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
/** A PATH with node and nothing else. */
const nodeOnly = join(tmp, 'bin');
mkdirSync(nodeOnly);
symlinkSync(process.execPath, join(nodeOnly, 'node'));

t.test('lookup on PATH, with the sbin next to each bin', async (t) => {
  const env = { PATH: nodeOnly };
  for (const tool of ['mosquitto', 'gpsd', 'chromium'] as const) t.equal(findTool(tool, env), undefined, `${tool}: not on a narrowed PATH`);
  const fake = join(tmp, 'fake', 'bin');
  mkdirSync(join(tmp, 'fake', 'sbin'), { recursive: true });
  mkdirSync(fake);
  writeFileSync(join(tmp, 'fake', 'sbin', 'gpsd'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(fake, 'chromium'), 'not executable', { mode: 0o644 });
  t.equal(findTool('gpsd', { PATH: `${nodeOnly}:${fake}` }), join(tmp, 'fake', 'sbin', 'gpsd'), 'found in the sbin beside a bin on PATH');
  t.equal(findTool('chromium', { PATH: fake }), undefined, 'a file that is not executable does not count');
  t.equal(installCommand(['mosquitto', 'mosquitto_passwd', 'gpsd']), 'apt-get install -y mosquitto gpsd', 'packages, deduplicated');
  t.throws(() => requireTool('mosquitto', 'the x bench', env), { code: 'E_TOOL', message: /the x bench needs mosquitto.*apt-get install -y mosquitto/ });
});

t.test('missing() records each skip; the summary is one line', async (t) => {
  const file = join(tmp, 'skips.jsonl');
  t.equal(missing('gpsd', { PATH: join(tmp, 'fake', 'bin') }), false, 'present: no skip, nothing recorded');
  t.match(missing('mosquitto', { PATH: nodeOnly, BEEPKIT_SKIPS_FILE: file }), /mosquitto not installed \(apt-get install -y mosquitto\)/);
  t.match(missing('chromium', { PATH: nodeOnly, BEEPKIT_SKIPS_FILE: file, CI: 'true' }), /CI=true: this skip fails the run/);
  writeFileSync(file, readFileSync(file, 'utf8') + '{"torn\n');
  const recs = readSkips(file);
  t.same(
    recs.map((r) => [r.tool, r.pkg]),
    [
      ['mosquitto', 'mosquitto'],
      ['chromium', 'chromium'],
    ],
    'recorded, a torn line ignored',
  );
  t.equal(skipSummary(recs), `skipped for missing tools: mosquitto, chromium (2 test(s) in 1 file(s)) — install: apt-get install -y mosquitto chromium`);
  t.equal(skipSummary([]), undefined, 'nothing skipped: no line');
});

/**
 * `npm test <file>` (scripts/test.ts) with PATH narrowed to node: stdout and exit code. It runs in the file's
 * directory, a tap project of its own (package.json with the repository's tap config, so the same plugin set
 * and no rebuild of tap's Test class): a nested tap in the repository's root would share the outer run's
 * .tap/ and clear its processinfo at start, under the outer run's test processes.
 */
async function npmTest(file: string, extra: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: nodeOnly, BEEPKIT_TEST_CWD: dirname(file), ...extra };
  delete env.BEEPKIT_SKIPS_FILE;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'test.ts'), file, '--reporter=terse'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, out };
}

t.test('npm test ends with the line; CI=true fails the run', { timeout: 120_000 }, async (t) => {
  const tapConfig = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { tap: unknown }).tap;
  const dir = t.testdir({
    'package.json': JSON.stringify({ name: 'nested-tap-project', private: true, type: 'module', tap: tapConfig }),
    'needs-tools.test.ts': [
      "import t from 'tap';",
      `import { missing } from ${JSON.stringify(join(ROOT, 'scripts', 'tools.ts'))};`,
      "t.test('with mosquitto', { skip: missing('mosquitto') }, async (t) => t.ok(process.pid > 0, 'ran in its own process'));",
      "t.test('with gpsd', { skip: missing('gpsd') }, async (t) => t.ok(process.pid > 0, 'ran in its own process'));",
      "t.test('plain', async (t) => t.ok(process.pid > 0, 'ran in its own process'));",
      '',
    ].join('\n'),
  });
  const file = join(dir, 'needs-tools.test.ts');
  const line = 'skipped for missing tools: mosquitto, gpsd (2 test(s) in 1 file(s)) — install: apt-get install -y mosquitto gpsd';
  const plain = await npmTest(file, { CI: '' });
  t.equal(plain.code, 0, 'skips alone do not fail a local run');
  t.equal(plain.out.trim().split('\n').at(-1), line, 'the last line names the tools and the install command');
  t.ok(existsSync(join(dir, '.tap')), "the nested tap kept its state in its own project's .tap/");
  const ci = await npmTest(file, { CI: 'true' });
  t.equal(ci.code, 1, 'under CI=true the skip fails the run');
  t.equal(ci.out.trim().split('\n').at(-1), `${line} — CI=true: a skipped suite fails the run`);
});
