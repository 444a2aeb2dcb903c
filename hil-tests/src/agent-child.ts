/**
 * One `beepkit agent run --config <file>` child process (noble/bleno keep
 * their process alive, so agents never run in the orchestrator's process):
 * a clean environment, bounded output capture, readiness from the agent's
 * `{"ready":true,"http":<port>}` line, and every JSON log line handed on.
 * Shared by the field trial (demo) and the HIL suites.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { agentProcessEnv } from '@beepkit/agent/node-options';
import { gatewayProcessEnv } from '@beepkit/gateway/process-env';

/** The agent's JSON log line fields the orchestrators read. */
export interface AgentLogLine {
  ready?: boolean;
  http?: number;
  alert?: { level?: string; kind?: string };
  msg?: string;
  time?: number;
}

export interface AgentChild {
  child: ChildProcess;
  /** Resolves when the child has exited (any reason). */
  exited: Promise<void>;
  /** Resolves with the agent's HTTP port once it reports ready; rejects on timeout or early exit. */
  ready: Promise<number>;
}

/** The environment a child gets: ours, without HCI_CHANNEL_USER (it stalls the UART driver) or BEEPKIT_AGENT_* / BEEPKIT_GATEWAY_* overrides. */
export function agentChildEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.HCI_CHANNEL_USER;
  for (const k of Object.keys(env)) if (k.startsWith('BEEPKIT_AGENT_') || k.startsWith('BEEPKIT_GATEWAY_')) delete env[k];
  env.BEEPKIT_EXIT_WITH_PARENT = '1'; // a killed trial takes its children with it (bin/cli.ts)
  return env;
}

export function spawnAgentChild(o: {
  bin: string;
  configPath: string;
  label: string;
  /** Lines of stdout and stderr are appended here (bounded to the last ~2000). */
  output: string[];
  timeoutMs?: number;
  onJson?: (line: AgentLogLine) => void;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** The beepkit command (default `agent run --config <configPath>`; `gateway run …` prints the same ready line). */
  args?: string[];
  /** Every line (stdout and stderr) is also appended to this file. */
  logFile?: string;
}): AgentChild {
  const timeoutMs = o.timeoutMs ?? 120_000;
  const args = o.args ?? ['agent', 'run', '--config', o.configPath];
  // an agent starts with the environment a device's service gives it (agent/src/app/node-options.ts);
  // BEEPKIT_TRIAL_AGENT_V8_DEFAULTS=1 leaves it out (bench/e2e-latency.ts: the figure without it); a gateway, that of
  // the gateway's service (gateway/src/app/process-env.ts)
  const env =
    args[0] === 'agent' && process.env.BEEPKIT_TRIAL_AGENT_V8_DEFAULTS !== '1'
      ? agentProcessEnv(agentChildEnv())
      : args[0] === 'gateway'
        ? gatewayProcessEnv(agentChildEnv())
        : agentChildEnv();
  const child = spawn(process.execPath, [o.bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, sig) => {
      o.onExit?.(code, sig);
      resolve();
    }),
  );
  const log = o.logFile ? createWriteStream(o.logFile, { flags: 'a', mode: 0o600 }) : undefined;
  log?.on('error', () => {});
  child.once('exit', () => log?.end());
  const keep = (l: string): void => {
    o.output.push(l);
    if (o.output.length > 2000) o.output.splice(0, 1000);
    log?.write(l + '\n');
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BeepkitError('E_TIMEOUT', `agent ${o.label} not ready in ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BeepkitError('E_AGENT', `agent ${o.label} exited (${code}) before ready: ${o.output.slice(-3).join(' | ')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (l) => {
      keep(l);
      if (!l.startsWith('{')) return;
      let j: AgentLogLine;
      try {
        j = JSON.parse(l) as AgentLogLine;
      } catch {
        return;
      }
      if (j.ready && typeof j.http === 'number') {
        clearTimeout(timer);
        resolve(j.http);
      }
      o.onJson?.(j);
    });
  });
  ready.catch(() => {}); // the caller awaits it; an exit after readiness is not an unhandled rejection
  return { child, exited, ready };
}

/** A running agent's local API: its HTTP port and the token it made at its first start (`<dataDir>/api-token`). */
export interface AgentEndpoint {
  port: number;
  token: string;
}

/** The endpoint of the agent on `port` whose data dir is `dataDir` (the token is read once, here). */
export function agentEndpoint(port: number, dataDir: string): AgentEndpoint {
  return { port, token: readFileSync(join(dataDir, 'api-token'), 'utf8').trim() };
}

/** The headers every call to the agent's API carries: the token, and the JSON type on a POST. */
export function agentHeaders(e: AgentEndpoint, post = false): Record<string, string> {
  return { authorization: `Bearer ${e.token}`, ...(post ? { 'content-type': 'application/json' } : {}) };
}
