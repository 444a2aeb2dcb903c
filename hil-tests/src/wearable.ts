/**
 * An elder wearable as a child process (`beepkit wearable pair|run`: bleno keeps
 * its process alive) and the carer's pairing with it through the running
 * agent's HTTP API: POST /carer/pair, read the code the wearable shows
 * (`pairing code: NNNNNN` on its stderr), accept on the wearable, POST
 * /carer/confirm with that code. Shared by the field trial and the HIL carer suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createWriteStream } from 'node:fs';
import { BeepkitError, remoteError } from '@beepkit/protocol';
import { agentChildEnv, agentHeaders, type AgentEndpoint } from './agent-child.ts';

/** The visit timings the field trial (@beepkit/trial) and the HIL carer suite give agents and wearables. A visit ends this long (scenario ms) after the last strong beacon frame. */
export const VISIT_EXIT_AFTER_MS = 120_000;
/** The frames that open a visit fall within this window (scenario ms: at ×60 a 10 s window is 1–2 beacon frames of real time). */
export const VISIT_ENTER_WINDOW_MS = 60_000;

export interface WearableSetup {
  label: string;
  dataDir: string;
  /** The peripheral's (advertising) HCI UART. */
  uart: string;
  /** The scanner's HCI UART (passed when the wearable supports scanning). */
  scanUart?: string;
  /** The sim's scenario clock (`http://…/clock`). */
  clockUrl?: string;
  /** A rig's fixed scenario clock without a control API (`epochMs=…,wallMs=…,speed=…`). */
  clock?: string;
  /** The solver's X25519 public key, hex (the wearable seals its stays into TraceCodes with it). */
  solverKey?: string;
  /** Publishing decisions every this many scenario ms (the agents' TraceCode interval). */
  publishIntervalMs?: number;
  /** Visit timing, scenario ms (the agents' `visits.enterWindowMs` / `exitAfterMs`). */
  visitWindowMs?: number;
  visitExitMs?: number;
  /** The child's output lines are appended here too. */
  logFile?: string;
}

const support = new Map<string, Promise<boolean>>();

/** Whether `beepkit wearable run` takes `--scan-uart` (the wearable records what it hears); asked once per bin. */
export function wearableScans(bin: string): Promise<boolean> {
  let p = support.get(bin);
  if (!p) {
    p = new Promise<boolean>((resolve) => {
      const c = spawn(process.execPath, [bin, 'wearable', 'run', '--help'], { env: agentChildEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.on('error', () => resolve(false));
      c.on('exit', () => resolve(out.includes('--scan-uart')));
    });
    support.set(bin, p);
  }
  return p;
}

/** The command line of `beepkit wearable pair|run`; scanning flags only when `scans`. */
export function wearableArgs(mode: 'pair' | 'run', s: WearableSetup, scans: boolean): string[] {
  const a = ['wearable', mode, '--data-dir', s.dataDir, '--label', s.label, '--uart', s.uart];
  if (scans && s.scanUart) a.push('--scan-uart', s.scanUart);
  if (scans && s.clockUrl) a.push('--clock-url', s.clockUrl);
  else if (scans && s.clock) a.push('--clock', s.clock);
  if (scans && s.solverKey) a.push('--solver-key', s.solverKey);
  if (scans && s.publishIntervalMs) a.push('--publish-interval-ms', String(s.publishIntervalMs));
  if (scans && s.visitWindowMs) a.push('--visit-window-ms', String(s.visitWindowMs));
  if (scans && s.visitExitMs) a.push('--visit-exit-ms', String(s.visitExitMs));
  return a;
}

/** One `beepkit wearable pair|run` child. */
export class WearableProcess {
  child?: ChildProcess;
  readonly output: string[] = [];
  wearableId?: string;
  exitCode: number | null | undefined;
  #exited?: Promise<void>;
  #stdout = '';
  readonly #codeWaiters: ((code: string) => void)[] = [];
  onExit?: (code: number | null) => void;
  onLine?: (line: string) => void;

  constructor(
    readonly setup: WearableSetup,
    readonly mode: 'pair' | 'run',
    private readonly bin: string,
    readonly scans: boolean,
  ) {}

  /** Spawns it; resolves when it reports ready (radio up). */
  async start(timeoutMs = 120_000): Promise<void> {
    const c = spawn(process.execPath, [this.bin, ...wearableArgs(this.mode, this.setup, this.scans)], {
      env: agentChildEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = c;
    this.#exited = new Promise((resolve) =>
      c.once('exit', (code) => {
        this.exitCode = code;
        this.onExit?.(code);
        resolve();
      }),
    );
    const log = this.setup.logFile ? createWriteStream(this.setup.logFile, { flags: 'a', mode: 0o600 }) : undefined;
    log?.on('error', () => {});
    c.once('exit', () => log?.end());
    const keep = (l: string): void => {
      log?.write(l + '\n');
      this.output.push(l);
      if (this.output.length > 1000) this.output.splice(0, 500);
      this.onLine?.(l);
    };
    createInterface({ input: c.stderr! }).on('line', (l) => {
      keep(l);
      const m = /pairing code: (\d{6})/.exec(l);
      if (m) for (const w of this.#codeWaiters.splice(0)) w(m[1]!);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new BeepkitError('E_TIMEOUT', `wearable ${this.setup.label} (${this.mode}) not ready in ${timeoutMs} ms: ${this.output.slice(-3).join(' | ')}`),
          ),
        timeoutMs,
      );
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          new BeepkitError('E_WEARABLE', `wearable ${this.setup.label} (${this.mode}) exited (${code}) before ready: ${this.output.slice(-3).join(' | ')}`),
        );
      });
      createInterface({ input: c.stdout! }).on('line', (l) => {
        keep(l);
        this.#stdout = (this.#stdout + l + '\n').slice(-4000);
        const id = /"wearableId":\s*"([0-9a-f]+)"/.exec(this.#stdout);
        if (id) this.wearableId = id[1];
        if (/"ready":\s*true/.test(this.#stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** The six-digit code the wearable shows next (pairing mode). */
  code(timeoutMs = 90_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new BeepkitError('E_TIMEOUT', `wearable ${this.setup.label} showed no pairing code in ${timeoutMs} ms`)), timeoutMs);
      this.#codeWaiters.push((c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
  }

  /** The wearable's user answers the comparison question (y/N). */
  confirm(ok: boolean): void {
    this.child?.stdin?.write(ok ? 'y\n' : 'n\n');
  }

  get running(): boolean {
    return !!this.child && this.exitCode === undefined;
  }

  /** Resolves when the process has exited (bounded: SIGKILL after `ms`). */
  async exited(ms: number): Promise<void> {
    if (!this.running) return;
    const t = setTimeout(() => this.child?.kill('SIGKILL'), ms);
    await this.#exited;
    clearTimeout(t);
  }

  /** SIGTERM, SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    await this.exited(graceMs);
  }
}

/** JSON request to a running agent's HTTP API; E_<code> errors carry the API's code. */
export async function agentApi(api: AgentEndpoint, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 150_000): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
    method,
    headers: agentHeaders(api, method === 'POST'),
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const j = text ? (JSON.parse(text) as { code?: string; message?: string }) : undefined;
  if (!res.ok) throw remoteError(j?.code ?? 'E_HTTP', `${method} ${path}: ${res.status} ${j?.message ?? ''}`.trim());
  return j;
}

export interface Paired {
  /** The code the carer's agent computed. */
  carerCode: string;
  /** The code the wearable showed (typed back to the agent). */
  shown: string;
  label: string;
  days: number;
  delivered: number;
  wearableId?: string;
}

/**
 * Pairs the carer agent at `api` with a wearable now in pairing mode (`pairing`, started):
 * the wearable's user accepts (`accept`), the carer types `typed(shown)` (default: what the
 * wearable shows). Waits for the pairing child to finish. A wrong code rejects with E_CODE.
 */
export async function pairThroughAgent(
  api: AgentEndpoint,
  pairing: WearableProcess,
  o: { label?: string; accept?: boolean; typed?: (shown: string) => string } = {},
): Promise<Paired> {
  const shownP = pairing.code();
  shownP.catch(() => {});
  const started = (await agentApi(api, 'POST', '/carer/pair', o.label ? { label: o.label } : {})) as { code: string };
  const shown = await shownP;
  pairing.confirm(o.accept ?? true);
  let done: { label: string; days: number; delivered: number };
  try {
    done = (await agentApi(api, 'POST', '/carer/confirm', { code: o.typed ? o.typed(shown) : shown })) as typeof done;
  } catch (e) {
    await pairing.stop(); // a refused pairing leaves the wearable in pairing mode
    throw e;
  }
  await pairing.exited(15_000); // `wearable pair` exits once paired
  return {
    carerCode: started.code,
    shown,
    label: done.label,
    days: done.days,
    delivered: done.delivered,
    ...(pairing.wearableId ? { wearableId: pairing.wearableId } : {}),
  };
}
