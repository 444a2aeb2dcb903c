/**
 * The field trial's wearable and its carer: the wearable child (paired through
 * the carer agent's HTTP API at the start, then serving syncs), and what the
 * carer's agent does for the person, narrated in plain language: syncs
 * (GET /carer), the person's certificate (the agent's log), alerts naming the
 * person (the agent's alert lines whose explanation starts with the name).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VISIT_ENTER_WINDOW_MS, VISIT_EXIT_AFTER_MS, type AgentProcess } from './agents.ts';
import { agentApi, pairThroughAgent, wearableScans, WearableProcess, type WearableSetup } from '@beepkit/hil-tests/wearable';
import type { CarerOutcome } from './summary.ts';

export interface CarerContext {
  bin: string;
  /** Scenario seconds now. */
  t: () => number;
  say: (text: string) => void;
  print: (line: string) => void;
  stopped: () => boolean;
}

/** Whether an alert explanation of the carer's agent is about `label` (the proxy words them "Grace: …"). */
export function aboutPerson(explanation: string, label: string): boolean {
  return explanation.startsWith(`${label}: `);
}

/** Sync trigger: the carer asks for a sync when it is this close (m) … */
const NEAR_M = 5;
/**
 * … and none was tried for this long (scenario s: shorter while the person's certificate is missing),
 * or the wearable sealed a TraceCode since the last try.
 */
const SYNC_GAP_S = 600;
const SYNC_GAP_NO_CERT_S = 180;

interface CarerState {
  wearables?: { label: string; records: number; lastSyncMs?: number; lastError?: string }[];
}

export class CarerLink {
  readonly outcome: CarerOutcome;
  wearable?: WearableProcess;
  /** The wearable records what it hears (`beepkit wearable run --scan-uart`). */
  scans = false;
  certificate = false;
  #records = 0;
  #lastSync?: number;
  #lastTry = -Infinity;
  /** TraceCodes the wearable had sealed when the last sync was asked for. */
  #sealedAtTry = 0;
  #syncing = false;
  #lastFail?: string;

  constructor(
    readonly c: CarerContext,
    readonly person: string,
    readonly carer: AgentProcess,
    readonly setup: WearableSetup,
  ) {
    this.outcome = { wearable: person, carer: carer.setup.label, paired: false, syncs: 0, records: 0 };
  }

  get records(): number {
    return this.#records;
  }

  /** Pairs (the carer next to the wearable, clock paused) and starts the wearable serving its carer. */
  async start(): Promise<void> {
    const c = this.c;
    const carer = this.carer.setup.label;
    this.scans = await wearableScans(c.bin);
    mkdirSync(this.setup.dataDir, { recursive: true, mode: 0o700 });
    const port = this.carer.api!;
    const pairing = new WearableProcess(this.setup, 'pair', c.bin, this.scans);
    try {
      await pairing.start();
      c.say(`${this.person}'s wearable is in pairing mode; ${carer} asks his agent to pair with it…`);
      const p = await pairThroughAgent(port, pairing, { label: this.person });
      this.outcome.paired = true;
      this.#records = p.delivered;
      this.outcome.records = p.delivered;
      c.say(
        `${carer} pairs with ${this.person}'s wearable: both show ${p.shown}${p.carerCode === p.shown ? '' : ` (carer ${p.carerCode})`}; ${p.days} day key(s), ${p.delivered} record(s) transferred`,
      );
      const s = (await agentApi(port, 'GET', '/carer', undefined, 5000).catch(() => undefined)) as CarerState | undefined;
      this.#lastSync = s?.wearables?.find((x) => x.label === this.person)?.lastSyncMs;
    } catch (e) {
      this.outcome.error = `${(e as { code?: string }).code ?? 'E_PAIR'}: ${(e as Error).message}`;
      c.say(`${carer} could not pair with ${this.person}'s wearable (${this.outcome.error})`);
      await pairing.stop();
      return;
    }
    const w = new WearableProcess(this.setup, 'run', c.bin, this.scans);
    w.onExit = (code) => {
      if (!c.stopped()) c.say(`${this.person}'s wearable exited unexpectedly (${code})`);
    };
    w.onLine = (l) => this.#onWearableLine(l);
    this.wearable = w;
    await w.start();
  }

  /** Records collected when the diagnosis came (undefined: not yet). */
  #atDiagnosis?: number;

  /** The diagnosis is being made now: only records collected before it can be matched by the solver. */
  diagnosisNow(): void {
    this.#atDiagnosis ??= this.#records;
  }

  /** Why the person's expectations cannot hold yet, if so. */
  missing(): string | undefined {
    const carer = this.carer.setup.label;
    if (!this.outcome.paired) return `${carer} never paired with ${this.person}'s wearable`;
    if (!this.scans)
      return `${this.person}'s wearable records nothing yet (\`beepkit wearable run --scan-uart\` is not available: issue 8), so ${carer} has none of her TraceCodes to upload`;
    if (this.#atDiagnosis === 0) {
      return `none of ${this.person}'s TraceCodes had reached ${carer} before the diagnosis (her wearable sealed ${this.sealed} during the whole run, ${carer} collected ${this.#records}), so the solver had nothing of hers to match`;
    }
    return undefined;
  }

  /** A JSON progress line of the wearable (its stderr). */
  #onWearableLine(l: string): void {
    if (!l.startsWith('{')) return;
    let j: { msg?: string; type?: string; pending?: number };
    try {
      j = JSON.parse(l) as typeof j;
    } catch {
      return;
    }
    if (j.msg === 'wearable: venue visit' && (j.type === 'enter' || j.type === 'exit')) this.onVisit?.(j.type);
    if (j.msg === 'wearable: stay sealed into the outbox') {
      this.sealed++;
      this.c.say(`${this.person}'s wearable sealed a TraceCode into its outbox (${j.pending ?? '?'} waiting for ${this.carer.setup.label})`);
    }
  }

  /** The wearable logged entering or leaving a venue. */
  onVisit?: (type: 'enter' | 'exit') => void;
  /** TraceCodes the wearable sealed. */
  sealed = 0;

  /** A JSON log line of the carer's agent. */
  onLog(j: { msg?: string; code?: string }): void {
    if ((j.msg === 'carer: sync failed' || j.msg === 'carer: sync aborted') && j.code && j.code !== this.#lastFail) {
      this.#lastFail = j.code;
      this.c.say(`${this.carer.setup.label}'s phone could not sync with ${this.person}'s wearable (${j.code})`);
    }
    if (j.msg === 'carer: certificate obtained for the wearable' && !this.certificate) {
      this.certificate = true;
      this.c.say(
        `${this.person} earned today's certificate from the CA through ${this.carer.setup.label} (his trusted location vouches for hers while they are together)`,
      );
    }
  }

  /** One observation: the carer's /carer state (syncs), and a sync asked for when they are together (at once when she sealed something new). */
  async observe(distanceM: number): Promise<void> {
    if (!this.outcome.paired || !this.carer.api) return;
    const port = this.carer.api;
    let s: CarerState | undefined;
    try {
      s = await agentApi(port, 'GET', '/carer', undefined, 5000);
    } catch {
      return;
    }
    const w = s?.wearables?.find((x) => x.label === this.person);
    if (!w) return;
    if (w.lastSyncMs !== undefined && w.lastSyncMs !== this.#lastSync) {
      this.#lastSync = w.lastSyncMs;
      const fresh = w.records - this.#records;
      this.#records = w.records;
      this.outcome.records = w.records;
      this.outcome.syncs++;
      if (fresh > 0) {
        this.c.say(
          `${this.carer.setup.label}'s phone collects ${fresh} record${fresh === 1 ? '' : 's'} from ${this.person}'s wearable${fresh > 0 ? ` and uploads them under her pseudonym (${w.records} so far)` : ''}`,
        );
      }
    }
    if (w.lastError && w.lastError !== this.outcome.error) {
      this.outcome.error = w.lastError;
    }
    const t = this.c.t();
    const gap = this.certificate ? SYNC_GAP_S : SYNC_GAP_NO_CERT_S;
    if (distanceM <= NEAR_M && !this.#syncing && (t - this.#lastTry >= gap || this.sealed > this.#sealedAtTry)) {
      this.#lastTry = t;
      this.#sealedAtTry = this.sealed;
      this.#syncing = true;
      void agentApi(port, 'POST', '/carer/sync', { wearable: this.person })
        .catch(() => {})
        .finally(() => (this.#syncing = false));
    }
  }

  async stop(): Promise<void> {
    await this.wearable?.stop();
  }
}

/**
 * The wearable's setup in the trial's run directory: the agents' timings (TraceCode interval
 * `publishIntervalMs`, visit window and exit), so her stays are sealed as soon as theirs.
 */
export function wearableSetup(
  run: string,
  id: string,
  label: string,
  d: { hciScan: string; hciAdvertise: string },
  clockUrl: string,
  solverKey?: string,
  publishIntervalMs?: number,
): WearableSetup {
  return {
    label,
    dataDir: join(run, 'wearables', id),
    uart: d.hciAdvertise,
    scanUart: d.hciScan,
    clockUrl,
    ...(solverKey ? { solverKey } : {}),
    ...(publishIntervalMs ? { publishIntervalMs } : {}),
    visitWindowMs: VISIT_ENTER_WINDOW_MS,
    visitExitMs: VISIT_EXIT_AFTER_MS,
    logFile: join(run, 'logs', `${id}.log`),
  };
}
