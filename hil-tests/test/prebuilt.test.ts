/**
 * The precompiled start (scripts/build.mjs → a bundle bin/beepkit.js runs
 * when it is newer than the sources): built into a temp dir (BEEPKIT_DIST),
 * the bundled `beepkit` prints exactly what the tsx path prints (help, the EN
 * v1.2 vector through `keys rpi`, the scenarios listed from the sources next
 * to the bundle's import.meta.url), and a stale bundle is ignored. Which path
 * ran is read from BEEPKIT_START_TRACE=1. The bundle's stamp is dated
 * explicitly (future = fresh, epoch = stale): the shared tree's sources change
 * under the test, their mtimes are not ours to set.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { COMMAND_WORKSPACE, WORKSPACE_CLIS, workspacesFor } from '../../bin/cli.ts';
import { hostNow } from '@beepkit/protocol/clock';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'beepkit.js');

t.setTimeout(300_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const e = { ...process.env, ...env };
  delete e.HCI_CHANNEL_USER;
  if (!('BEEPKIT_FROM_SOURCE' in env)) delete e.BEEPKIT_FROM_SOURCE;
  const child = spawn(process.execPath, args, { cwd: root, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const vector = JSON.parse(readFileSync(join(root, 'protocol', 'test', 'vectors', 'exposure-notification.json'), 'utf8')) as {
  tek: string;
  metadata: string;
  intervals: { enin: number; rpi: string; aem: string }[];
};
const COMMANDS: [string, string[]][] = [
  ['--help', ['--help']],
  ['agent --help', ['agent', '--help']],
  [
    'keys rpi (EN v1.2 vector)',
    ['keys', 'rpi', '--tek', vector.tek, '--enin', String(vector.intervals[0].enin), '--count', '3', '--metadata', vector.metadata],
  ],
  ['sim --list (scenarios next to the sources)', ['sim', '--list']],
  ['an unknown command (exit 64)', ['no-such-command']],
];

t.test('the COMMAND_WORKSPACE shortcut names the workspace that registers each top-level command', async (t) => {
  const seen: Record<string, string> = {};
  for (const [ws, load] of Object.entries(WORKSPACE_CLIS)) {
    const p = new Command();
    (await load()).register?.(p);
    for (const c of p.commands) seen[c.name()] = ws;
  }
  t.same(seen, COMMAND_WORKSPACE, 'every top-level command, and only those, mapped to its workspace');
  t.same(workspacesFor(['node', 'beepkit', 'agent', 'run']), ['agent'], 'agent run loads the agent cli only');
  t.same(workspacesFor(['node', 'beepkit', '--help']), Object.keys(WORKSPACE_CLIS), 'help loads every workspace');
  t.same(workspacesFor(['node', 'beepkit', 'constructor']), Object.keys(WORKSPACE_CLIS), 'no prototype key is a command');
});

t.test('a bundle in a temp dir runs and prints what the tsx path prints; a stale one is ignored', async (t) => {
  const dist = join(t.testdir(), 'dist');
  const built = await run([join(root, 'scripts', 'build.mjs'), '--outdir', dist, '--quiet'], {});
  t.equal(built.code, 0, `the build succeeds ${built.stderr}`);
  t.ok(existsSync(join(dist, 'cli.js')) && existsSync(join(dist, '.built')), 'cli.js and the stamp are written');
  t.ok(existsSync(join(dist, 'cli.js.map')), 'with a source map');
  // V8 keeps each loaded chunk's source for the life of the process, as a two-byte string if it holds one
  // non-ASCII character (a kept comment's arrow): agent/README "Memory"
  const wide = readdirSync(dist).filter((f) => f.endsWith('.js') && /[\u0080-\uffff]/.test(readFileSync(join(dist, f), 'utf8')));
  t.same(wide, [], 'every chunk is ASCII (no comments kept, strings escaped)');

  // as built, untouched: the stamp is the build's start by the file system's clock (it was epoch + a few
  // hundred ms when the build read performance.now(), and every run fell back to tsx)
  const asBuilt = await run([bin, '--version'], { BEEPKIT_DIST: dist, BEEPKIT_START_TRACE: '1' });
  t.match(asBuilt.stderr, /^beepkit: precompiled \(built /, `a fresh build runs as built, without touching its stamp: ${asBuilt.stderr.split('\n')[0]}`);
  t.notOk(existsSync(join(dist, '.began')), 'the start probe is removed');

  const future = new Date(hostNow() + 86_400_000);
  utimesSync(join(dist, '.built'), future, future);
  const fresh = { BEEPKIT_DIST: dist, BEEPKIT_START_TRACE: '1' };
  for (const [what, args] of COMMANDS) {
    const [pre, src] = await Promise.all([run([bin, ...args], fresh), run([bin, ...args], { BEEPKIT_FROM_SOURCE: '1', BEEPKIT_START_TRACE: '1' })]);
    t.match(pre.stderr, /^beepkit: precompiled \(built /, `${what}: the bundle ran`);
    t.match(src.stderr, /^beepkit: tsx \(BEEPKIT_FROM_SOURCE=1/, `${what}: BEEPKIT_FROM_SOURCE=1 ran the sources`);
    t.equal(pre.stdout, src.stdout, `${what}: same stdout`);
    t.equal(pre.stderr.split('\n').slice(1).join('\n'), src.stderr.split('\n').slice(1).join('\n'), `${what}: same stderr`);
    t.equal(pre.code, src.code, `${what}: same exit code (${src.code})`);
  }

  const rpi = await run([bin, ...COMMANDS[2][1]], fresh);
  t.same(
    rpi.stdout.trim().split('\n').slice(0, 2),
    vector.intervals.slice(0, 2).map((v) => `${v.enin} ${v.rpi} ${v.aem}`),
    'the bundle derives the EN v1.2 vector',
  );
  t.match((await run([bin, 'sim', '--list'], fresh)).stdout, /cafe/, 'the bundle lists the shipped scenarios (read next to the sources)');

  const epoch = new Date(0);
  utimesSync(join(dist, '.built'), epoch, epoch);
  const stale = await run([bin, '--version'], fresh);
  t.match(stale.stderr, /^beepkit: tsx \(stale: .* is newer than the build/, 'a bundle older than the sources is ignored');
  t.equal(stale.stdout.trim(), '0.1.0', 'and the tsx path answers');
  const none = await run([bin, '--version'], { BEEPKIT_DIST: join(dist, 'absent'), BEEPKIT_START_TRACE: '1' });
  t.match(none.stderr, /^beepkit: tsx \(no build in /, 'no bundle: the tsx path');
  t.equal(none.code, 0, 'which exits 0');
});

t.test('BEEPKIT_V8_FLAGS: the run-time V8 flags bin/beepkit.js sets, others refused with a message', async (t) => {
  const env = { BEEPKIT_FROM_SOURCE: '1' };
  const ok = await run([bin, '--version'], { ...env, BEEPKIT_V8_FLAGS: ' --no-opt ' });
  t.equal(ok.code, 0, `--no-opt accepted ${ok.stderr}`);
  t.equal(ok.stdout.trim(), '0.1.0');
  t.notMatch(ok.stderr, /BEEPKIT_V8_FLAGS/, 'no message for an allowed flag');
  const bad = await run([bin, '--version'], { ...env, BEEPKIT_V8_FLAGS: '--no-opt --allow-natives-syntax' });
  t.equal(bad.code, 0, 'a refused flag does not stop the command');
  t.equal(bad.stdout.trim(), '0.1.0');
  t.match(bad.stderr, /^beepkit: BEEPKIT_V8_FLAGS: --allow-natives-syntax ignored \(only --no-opt/m, 'it says which flag it ignored and what is allowed');
});
