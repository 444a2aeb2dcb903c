/**
 * A killed field trial takes its children with it: a `beepkit` child started
 * with BEEPKIT_EXIT_WITH_PARENT=1 (agentChildEnv sets it for every agent,
 * wearable and gateway child) stops as on SIGTERM when its parent dies, even
 * by SIGKILL; without the variable it outlives the parent (the control).
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(root, 'bin', 'beepkit.js');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A shell parent that starts `beepkit agent run` in the background and prints its pid; the agent's pid once ready. */
async function parentWithAgent(t: Test, exitWithParent: boolean): Promise<{ parent: ReturnType<typeof spawn>; agentPid: number }> {
  const dir = t.testdir({});
  const cfg = join(dir, 'agent.json');
  writeFileSync(cfg, JSON.stringify({ dataDir: join(dir, 'data'), keystore: { passphrase: 'exit with parent' }, http: { port: 0 }, log: { level: 'warn' } }));
  const env = { ...process.env, BEEPKIT_EXIT_WITH_PARENT: exitWithParent ? '1' : '0' };
  const parent = spawn('bash', ['-c', `node "${BIN}" agent run --config "${cfg}" & echo "pid $!"; wait`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: parent.stdout! });
  let agentPid = 0;
  for await (const l of lines) {
    const m = /^pid (\d+)/.exec(l);
    if (m) agentPid = Number(m[1]);
    if (l.includes('"ready":true')) break;
  }
  return { parent, agentPid };
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

t.test('with BEEPKIT_EXIT_WITH_PARENT=1 the agent stops when its parent is killed -9', { timeout: 120_000 }, async (t) => {
  const { parent, agentPid } = await parentWithAgent(t, true);
  t.ok(agentPid > 0 && alive(agentPid), 'the agent runs');
  parent.kill('SIGKILL');
  t.ok(await gone(agentPid, 15_000), 'the agent stopped after its parent died');
});

t.test('without it the agent outlives its parent (the control)', { timeout: 120_000 }, async (t) => {
  const { parent, agentPid } = await parentWithAgent(t, false);
  parent.kill('SIGKILL');
  t.notOk(await gone(agentPid, 3000), 'still running 3 s after its parent died');
  process.kill(agentPid, 'SIGTERM');
  t.ok(await gone(agentPid, 15_000), 'stopped by SIGTERM');
});
