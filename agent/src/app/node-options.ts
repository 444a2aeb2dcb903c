/**
 * The process environment a device agent starts with: V8 options in
 * `NODE_OPTIONS` (and any other variable in AGENT_ENV). Set by
 * agent/systemd/beepkit-agent.service and by the field trial's and HIL suites'
 * agent children (hil-tests/src/agent-child.ts). Both are read once, when the
 * process starts (`v8.setFlagsFromString` from inside the agent changes no heap
 * size), so they cannot live in bin/beepkit.js.
 *
 * - `--max-semi-space-size=1`: each of the young generation's two semi-spaces
 *   stays at 1 MiB (Node 20 grows them to 16 MiB under a high allocation rate:
 *   up to ~32 MB of RSS holding only garbage between scavenges). The agent
 *   allocates in small bursts (adverts, MQTT messages, HTTP polls), so the extra
 *   scavenges are short.
 *
 * Tried and not kept (one field trial each, same machine state, bench/RESULTS.md
 * e2e-latency notes): adding `--v8-pool-size=1` and `MALLOC_ARENA_MAX=2` gave a
 * max agent RSS 0.93× of the defaults' against 0.82× for the semi-space cap alone.
 *
 * bench/e2e-latency.ts (BENCH_E2E_BASELINE=1) measures the field trial's agent
 * RSS and alert latency with and without them in the same run (agent/README "Memory").
 */
export const AGENT_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=1'];

/** Environment variables of the agent process besides NODE_OPTIONS (none kept so far; see above). */
export const AGENT_ENV: Readonly<Record<string, string>> = {};

/** `base` (a NODE_OPTIONS value, may be empty) with `add` appended, each option once. */
export function withNodeOptions(base: string | undefined, add: readonly string[]): string {
  const have = (base ?? '').split(/\s+/).filter(Boolean);
  return [...have, ...add.filter((o) => !have.includes(o))].join(' ');
}

/** `env` with the agent's NODE_OPTIONS appended and AGENT_ENV set where `env` does not set it. */
export function agentProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, NODE_OPTIONS: withNodeOptions(env.NODE_OPTIONS, AGENT_NODE_OPTIONS) };
  for (const [k, v] of Object.entries(AGENT_ENV)) out[k] ??= v;
  return out;
}
