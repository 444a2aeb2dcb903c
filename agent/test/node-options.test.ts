// The agent's process environment (agent/src/app/node-options.ts): the systemd unit gives a device the same,
// and the merge keeps what the environment already had.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_ENV, AGENT_NODE_OPTIONS, agentProcessEnv, withNodeOptions } from '../src/app/node-options.ts';

/** The unit's Environment= assignments (one per line, optionally quoted whole, as systemd reads them here). */
function unitEnv(unit: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=(.*)$/gm)) {
    const a = m[1].startsWith('"') && m[1].endsWith('"') ? m[1].slice(1, -1) : m[1];
    const i = a.indexOf('=');
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

t.test('the systemd unit starts the agent with the agent process environment', async (t) => {
  const env = unitEnv(readFileSync(fileURLToPath(new URL('../systemd/beepkit-agent.service', import.meta.url)), 'utf8'));
  t.same(env.NODE_OPTIONS?.split(/\s+/), [...AGENT_NODE_OPTIONS], 'NODE_OPTIONS: the same options, in order');
  for (const [k, v] of Object.entries(AGENT_ENV)) t.equal(env[k], v, k);
  t.ok(
    AGENT_NODE_OPTIONS.every((o) => process.allowedNodeEnvironmentFlags.has(o.split('=')[0])),
    'each option is one Node accepts in NODE_OPTIONS',
  );
});

t.test('withNodeOptions appends, once each, after what was there', async (t) => {
  t.equal(withNodeOptions(undefined, ['--a=1']), '--a=1');
  t.equal(withNodeOptions('', ['--a=1', '--b']), '--a=1 --b');
  t.equal(withNodeOptions(' --import tsx  --a=1 ', ['--a=1', '--b']), '--import tsx --a=1 --b');
  t.equal(withNodeOptions('--x', []), '--x');
});

t.test('agentProcessEnv keeps a value the environment sets', async (t) => {
  const e = agentProcessEnv({ PATH: '/bin', MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--import tsx' });
  t.equal(e.PATH, '/bin');
  t.equal(e.MALLOC_ARENA_MAX, '4', 'an operator setting is kept');
  t.equal(e.NODE_OPTIONS, ['--import tsx', ...AGENT_NODE_OPTIONS].join(' '));
  t.equal(agentProcessEnv({}).NODE_OPTIONS, AGENT_NODE_OPTIONS.join(' '), 'NODE_OPTIONS set when absent');
});

t.test('BEEPKIT_V8_FLAGS holds only flags Node refuses in NODE_OPTIONS (bin/beepkit.js sets them at start)', async (t) => {
  const flags = (AGENT_ENV.BEEPKIT_V8_FLAGS ?? '').split(/\s+/).filter(Boolean);
  t.ok(flags.includes('--no-opt'), 'no TurboFan tier for an agent');
  t.ok(flags.includes('--liftoff-only'), "no TurboFan tier for WebAssembly either (Node's cjs-module-lexer)");
  for (const f of flags) t.notOk(process.allowedNodeEnvironmentFlags.has(f), `${f} cannot go in NODE_OPTIONS`);
  t.equal(agentProcessEnv({}).BEEPKIT_V8_FLAGS, AGENT_ENV.BEEPKIT_V8_FLAGS, 'the agent child gets it');
});
