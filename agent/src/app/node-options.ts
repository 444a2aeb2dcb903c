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
 * - `--max-old-space-size=256`: V8 scales the old generation's growing factor
 *   with the heap limit (V8's heap-controller.h: ×1.3 up to 128 MB × the heap
 *   limit multiplier, 2 on 64-bit Node 20, rising linearly to ×4 at 2 GB; Node's
 *   default limit on this 24 GB host is over 2 GB), so after each full GC a
 *   ~20–27 MB live heap could grow to ~40 MB of pages before the next one; at
 *   256 MB the factor is ×1.3. 256 MB is ~10× the agent's live heap in the trial (a
 *   heap snapshot mid-trial), far above the 80 MB RSS goal: a limit it should
 *   never meet (an agent that did would exit and systemd restart it).
 *
 * Tried and not kept (one field trial each, same machine state, bench/RESULTS.md
 * e2e-latency notes): adding `--v8-pool-size=1` and `MALLOC_ARENA_MAX=2` gave a
 * max agent RSS 0.93× of the defaults' against 0.82× for the semi-space cap alone.
 * Idle agent (the agent's bundle chunk loaded; agent/README "Memory"): `--max-old-space-size=48`,
 * `--v8-pool-size=0`, `--max-lazy`, `--no-sparkplug`, `MALLOC_ARENA_MAX=1|2` are within the noise
 * (±3 MB of ~65 MB); `--jitless` saves as much as `--no-opt` but also drops WebAssembly and Sparkplug
 * (interpreter only); `--optimize-for-size`, `--lite-mode` and `--stack-size` are refused in NODE_OPTIONS.
 *
 * bench/e2e-latency.ts (BENCH_E2E_BASELINE=1) measures the field trial's agent
 * RSS and alert latency with and without them in the same run (agent/README "Memory").
 */
export const AGENT_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=256'];

/**
 * Environment variables of the agent process besides NODE_OPTIONS.
 *
 * - `BEEPKIT_V8_FLAGS=--no-opt` (bin/beepkit.js sets it with `v8.setFlagsFromString` before any of
 *   beepkit's code loads; Node refuses `--no-opt` in NODE_OPTIONS, and V8 reads it at each tiering
 *   decision, so setting it from inside works): no TurboFan tier. Hot functions stop at Sparkplug's
 *   baseline code. TurboFan's compiler zones (malloc on its worker thread, kept by glibc's arena) and the
 *   binary's TurboFan code pages cost an idle agent ~8–10 MB of its ~65 MB (agent/README "Memory"); the
 *   agent's hot work is native (crypto, HCI parsing in Buffers, MQTT framing), and the field trial's
 *   alert latency stays within its spread (bench/e2e-latency.ts, BENCH_E2E_BASELINE=1).
 * - `--liftoff-only` (same variable): WebAssembly is compiled by Liftoff, V8's baseline wasm compiler, and
 *   never tiered up to TurboFan. The agent's one wasm module is Node's own cjs-module-lexer, which scans
 *   every CommonJS package the ESM bundle imports (mqtt, noble, pino, …); it runs hot enough at start for
 *   V8 to tier it up, and that TurboFan compile took ~28 MB of zone memory for half a second (the agent's
 *   RSS peak) and left ~9 MB in glibc's arena. A page-fault profile of a starting agent (`perf record -e
 *   page-faults -g`) put 55 % of its faults under `wasm::BackgroundCompileJob` → `ExecuteTurbofanWasmCompilation`.
 */
export const AGENT_ENV: Readonly<Record<string, string>> = { BEEPKIT_V8_FLAGS: '--no-opt --liftoff-only' };

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
