/**
 * `beepkit demo`: the complete field trial on virtual radios. Starts the sim
 * (air, venue beacons, controllers and GNSS receivers per device), the gateway
 * (embedded broker unless --broker, CA with the scenario's venues, ledger), the
 * dashboard and one `beepkit agent run` child per agent on the sim's clock;
 * narrates; at the diagnosis time runs the diagnostician and the solver; then
 * prints a summary and compares it with the scenario's `expect` block.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { loadScenarioFile, type Scenario } from '@beepkit/firmware-stubs/scenario';
import { Sim, rigDocument } from '@beepkit/firmware-stubs/sim';
import { Gateway, resolveConfig } from '@beepkit/gateway/app';
import { VenueRegistry as CaVenues } from '@beepkit/gateway/ca';
import { hashPassword } from '@beepkit/gateway/broker';
import { DashboardServer, scenarioEvent } from '../dashboard/index.ts';
import { AgentProcess, VISIT_EXIT_AFTER_MS, writeAgentFiles, type AgentSetup } from './agents.ts';
import { rigVenues } from '@beepkit/hil-tests/agent-config';
import { DiagnosisStep } from './diagnose.ts';
import { ProximityView } from './proximity.ts';
import { CarerLink, aboutPerson, wearableSetup } from './carer.ts';
import { clockLabel, narrateChange, nearestVenue, snapshotOf, whereText, type AgentSnapshot, type Narration } from './narrate.ts';
import { finishChain, startDemoChain, type DemoChain } from './chain.ts';
import { compareOutcome, formatSummary, parseExpect, type Comparison, type DeviceOutcome, type Level, type TrialOutcome } from './summary.ts';

export interface DemoOptions {
  /** Scenario name (firmware-stubs/scenarios/<name>.yaml) or a path. */
  scenario?: string;
  speed?: number;
  short?: boolean;
  keepRunning?: boolean;
  broker?: string;
  dashboardPort?: number;
  dataDir?: string;
  /** Capture every virtual controller's HCI traffic here (btsnoop, the sim's `--btsnoop`). */
  btsnoop?: string;
  /** Where narration goes (default stdout). */
  print?: (line: string) => void;
  /** Anchor the gateway's ledger on a local EVM chain (anvil from npm). */
  chain?: 'anvil';
  /** With `chain`: leave anvil running and the data dir in place at the end. */
  keepChain?: boolean;
  /** Real ms to wait for alerts after the scenario ends (default 30 s). */
  settleMs?: number;
}

export interface DemoResult {
  outcome: TrialOutcome;
  comparison: Comparison;
  code: number;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'beepkit.js');
const SHORT_SPEED = 60;
/** TraceCode interval, scenario ms: 5 min (the ingest interval follows). */
const TC_INTERVAL_MS = 300_000;
const RANK: Record<Level, number> = { none: 0, low: 1, high: 2 };

export function scenarioPath(name: string): string {
  if (name.includes('/') || name.endsWith('.yaml') || name.endsWith('.yml')) return isAbsolute(name) ? name : resolve(name);
  return join(ROOT, 'firmware-stubs', 'scenarios', `${name}.yaml`);
}

interface Tracked {
  id: string;
  label: string;
  role: string;
  proc?: AgentProcess;
  snap?: AgentSnapshot;
  visits: { venue: string; from: number; to?: number }[];
  alert: Level;
  explanation?: string;
  skipped?: string;
  /** A wearable: its link with its carer. */
  link?: CarerLink;
  /** A carer: the wearables it cares for. */
  cares?: { link: CarerLink; tr: Tracked }[];
}

export class FieldTrial {
  readonly scenario: Scenario;
  readonly speed: number;
  sim?: Sim;
  gateway?: Gateway;
  chain?: DemoChain;
  dashboard?: DashboardServer;
  /** The diagnosis step once the trial runs (its `marks` time the endorsement and notices, for measurement). */
  diagnosisStep?: DiagnosisStep;
  /** What the agents' radios hear, onto the dashboard (their proximity feeds). */
  proximity?: ProximityView;
  readonly devices = new Map<string, Tracked>();
  readonly skipped: string[] = [];
  readonly #o: DemoOptions;
  readonly #print: (l: string) => void;
  #base = '';
  #tempBase = false;
  #stopped = false;
  #lastHeight = -1;
  #lastRate?: { acked: number; at: number };
  #lastRecords = 0;

  constructor(o: DemoOptions = {}) {
    this.#o = o;
    this.#print = o.print ?? ((l) => process.stdout.write(l + '\n'));
    this.scenario = withIndoorAir(loadScenarioFile(scenarioPath(o.scenario ?? 'cafe')));
    this.speed = o.speed ?? (o.short ? Math.max(SHORT_SPEED, this.scenario.speed) : this.scenario.speed);
  }

  get t(): number {
    return this.sim?.clock.elapsedSeconds() ?? 0;
  }

  say(text: string): void {
    this.#print(`[${clockLabel(this.t)}] ${text}`);
    this.#publish({ type: 'log', text: text.slice(0, 400), t: this.t });
  }

  #publish(e: unknown): void {
    try {
      this.dashboard?.publish(e);
    } catch {
      // the dashboard refuses what its privacy filter dislikes; the narration goes on
    }
  }

  #venueName(id: string): string {
    return this.scenario.venues.find((v) => v.id === id)?.name ?? id;
  }

  /** Starts everything; resolves when the agents are up and the scenario clock runs. */
  async start(): Promise<void> {
    const sc = this.scenario;
    const o = this.#o;
    if (o.dataDir) mkdirSync(o.dataDir, { recursive: true });
    this.#base = o.dataDir ? resolve(o.dataDir) : mkdtempSync(join(tmpdir(), 'beepkit-demo-'));
    this.#tempBase = !o.dataDir;
    const run = mkdtempSync(join(this.#base, `run-${sc.name}-`));
    this.#print(`beepkit field trial: ${sc.description} (scenario ${sc.name}, speed ×${this.speed}${o.short ? ', short' : ''})`);
    this.#print(`data: ${run}${this.#tempBase ? ' (temporary: removed at the end; keep it with --data-dir)' : ''}`);

    // 1. the sim: virtual radios and GNSS, paused until the agents are up
    mkdirSync(join(run, 'sim'));
    this.sim = new Sim({ scenario: sc, dir: join(run, 'sim'), speed: this.speed, controlPort: 0, ...(o.btsnoop ? { btsnoop: o.btsnoop } : {}) });
    await this.sim.start();
    this.sim.pause();
    const rig = rigDocument(this.sim) as {
      venues: {
        id: string;
        name: string;
        venueId: string;
        venueKey: string;
        center: { lat: number; lon: number };
        radius: number;
        surface?: string;
        region?: string;
      }[];
    };

    // 2. the gateway with its CA (venues registered with the sim's venue keys) and device credentials
    const gwDir = join(run, 'gateway');
    mkdirSync(gwDir, { recursive: true, mode: 0o700 });
    const hosted = this.sim.deviceLines();
    const creds = new Map(
      hosted.map((d) => [d.id, { deviceId: `demo-${d.id.toLowerCase().replace(/[^a-z0-9]/g, '')}-kit`, password: randomBytes(18).toString('base64url') }]),
    );
    writeFileSync(
      join(gwDir, 'devices.passwd'),
      [...creds.values()].map((c) => `${c.deviceId}:${hashPassword(c.password, { iterations: 1000 })}`).join('\n') + '\n',
      { mode: 0o600 },
    );
    const region = regionOf(sc);
    const caVenues = new CaVenues(join(gwDir, 'venues.json')).load();
    for (const v of rig.venues) {
      caVenues.add({
        id: v.venueId,
        name: v.name,
        region: (v.region ?? region).split('/').filter(Boolean).slice(0, 4),
        lat: v.center.lat,
        lon: v.center.lon,
        radiusM: Math.max(1, Math.ceil(v.radius)),
        key: Uint8Array.from(Buffer.from(v.venueKey, 'hex')),
      });
    }
    if (o.chain === 'anvil') {
      this.chain = await startDemoChain(gwDir);
      this.#print(
        `chain: anvil at ${this.chain.rpcUrl}, AnchorRegistry ${this.chain.anchorRegistry}, VenueRegistry ${this.chain.venueRegistry} (deploy gas ${this.chain.deployGas}); the gateway is admitted`,
      );
    }
    const config = resolveConfig({
      ...(this.chain ? { anchor: this.chain.anchor } : {}),
      dataDir: gwDir,
      broker: { ...(o.broker ? { url: o.broker } : {}), embedded: { host: '127.0.0.1', port: 0, passwordFile: join(gwDir, 'devices.passwd') } },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'warn' },
      ingest: { maxSkewSec: 3600, intervalSeconds: TC_INTERVAL_MS / 1000 },
      ca: { slotWindow: 5, frameMaxAgeMs: 600_000, fixMaxAgeMs: 600_000, requestsPerPseudonymDay: 50 },
    });
    const sim = this.sim;
    this.gateway = new Gateway({ config, now: () => sim.clock.now() });
    await this.gateway.start();
    this.#print(
      `gateway: broker ${this.gateway.brokerUrl}${o.broker ? '' : ' (embedded)'}, CA with ${rig.venues.length} venue(s) registered, ledger at ${join(gwDir, 'ledger')}`,
    );

    // 3. the dashboard
    this.dashboard = new DashboardServer({ port: o.dashboardPort ?? 0, title: `beepkit field trial — ${sc.name}` });
    await this.dashboard.start();
    this.#publish(scenarioEvent(sc));
    this.#print(`dashboard: ${this.dashboard.url}`);
    this.proximity = new ProximityView({ sim, scenario: sc, publish: (e) => this.#publish(e) });

    // 4. the agents, then the wearables paired with their carers' agents
    const keys = this.gateway.keys;
    const agents: AgentProcess[] = [];
    const clockUrl = `http://127.0.0.1:${sim.controlPort}/clock`;
    const carerOf = (id: string): string | undefined => {
      const spec = sc.devices.find((x) => x.id === id);
      return spec?.role === 'wearable' && spec.carer && hosted.some((h) => h.id === spec.carer && h.role === 'agent') ? spec.carer : undefined;
    };
    const wearables = hosted.filter((d) => carerOf(d.id));
    // every child's output, kept with the run (--data-dir)
    const logs = join(run, 'logs');
    mkdirSync(logs, { recursive: true, mode: 0o700 });
    for (const d of hosted) {
      const tr: Tracked = { id: d.id, label: d.label, role: d.role, visits: [], alert: 'none' };
      this.devices.set(d.id, tr);
      if (carerOf(d.id)) continue;
      if (d.role !== 'agent') {
        const spec = sc.devices.find((x) => x.id === d.id);
        tr.skipped = `a ${d.role} is not run by the trial without a carer${spec?.carer ? `; ${spec.carer} cannot care for ${d.label}` : ''}`;
        this.skipped.push(`${d.label} (${d.role}): ${tr.skipped}`);
        continue;
      }
      const c = creds.get(d.id)!;
      const setup: AgentSetup = {
        id: d.id,
        label: d.label,
        dir: join(run, 'agents', d.id),
        deviceId: c.deviceId,
        password: c.password,
        gnssPath: d.gnss,
        hciScan: d.hciScan,
        hciAdvertise: d.hciAdvertise,
        venues: rigVenues(rig),
        brokerUrl: this.gateway.brokerUrl,
        anchors: { caPublicKey: toHex(keys.caPublicKey), gatewayPublicKey: toHex(keys.gateway.publicKey) },
        clockUrl,
        tracecodeIntervalMs: TC_INTERVAL_MS,
        carer: wearables.some((w) => carerOf(w.id) === d.id),
        logFile: join(logs, `${d.id}.log`),
      };
      const proc = new AgentProcess(setup, writeAgentFiles(setup), BIN);
      // a carer's alert lines about the person it cares for are that person's alerts
      proc.onAlert = (a) => {
        const w = tr.cares?.find((x) => aboutPerson(a.explanation, x.link.person));
        this.#onAlert(w?.tr ?? tr, a.level as Level, a.explanation, w ? tr.label : undefined);
      };
      proc.onLog = (j) => {
        for (const w of tr.cares ?? []) w.link.onLog(j);
      };
      proc.onExit = (code, sig) => {
        if (!this.#stopped) this.say(`${d.label}'s agent exited unexpectedly (${code ?? sig})`);
      };
      tr.proc = proc;
      agents.push(proc);
    }
    for (const w of this.skipped) this.#print(`note: ${w}`);
    this.#print(`starting ${agents.length} agents (real noble/bleno stacks on virtual HCI UARTs, GNSS on PTYs)…`);
    await Promise.all(agents.map((a) => a.start()));
    const until = performance.now() + 120_000;
    for (;;) {
      const snaps = await Promise.all(agents.map(async (a) => snapshotOf(await a.status())));
      if (snaps.every((s) => s.radioOn)) break;
      if (performance.now() > until) throw Object.assign(new Error('agents: radios not powered on in 120 s'), { code: 'E_TIMEOUT' });
      await sleep(250);
    }
    for (const d of hosted) this.#print(`  ${whereText(d.label, sim.position(d.id), sc.venues)}`);
    // the wearables: paired by their carers (next to them at the start, the clock still paused), then serving syncs
    for (const d of wearables) {
      const tr = this.devices.get(d.id)!;
      const carer = this.devices.get(carerOf(d.id)!)!;
      const link = new CarerLink(
        { bin: BIN, t: () => this.t, say: (x) => this.say(x), print: this.#print, stopped: () => this.#stopped },
        d.label,
        carer.proc!,
        wearableSetup(run, d.id, d.label, d, clockUrl, toHex(keys.solverPublicKey), TC_INTERVAL_MS),
      );
      link.onVisit = (type) => {
        if (type === 'enter') {
          const venue = nearestVenue(sim.position(d.id), sc.venues)?.venue;
          this.#apply(tr, { kind: 'visit-open', text: `${d.label}'s wearable logged her entering ${venue?.name ?? 'a venue'}`, venue: venue?.id });
          return;
        }
        // her log names no venue: with two open (she entered the next one before the last one's exit), the one she is not at ended
        const here = nearestVenue(sim.position(d.id), sc.venues);
        const opened = tr.visits.filter((x) => x.to === undefined);
        const open = opened.find((x) => !(here && here.edgeM < 15 && x.venue === here.venue.id)) ?? opened.at(-1);
        this.#apply(tr, {
          kind: 'visit-close',
          text: `${d.label}'s wearable logged her leaving ${open ? this.#venueName(open.venue) : 'a venue'}`,
          venue: open?.venue,
        });
      };
      tr.link = link;
      (carer.cares ??= []).push({ link, tr });
      await link.start();
      if (link.missing()) this.#print(`note: ${link.missing()}`);
    }
    sim.resume();
    this.say(`scenario clock started: ${Math.round(sc.duration / 60)} scenario minutes at ×${this.speed} (≈ ${Math.round(sc.duration / this.speed)} s)`);
  }

  /** `via`: the carer whose agent raised the alert for the person. */
  #onAlert(tr: Tracked, level: Level, explanation: string, via?: string): void {
    if (!(level in RANK)) return;
    if (RANK[level] > RANK[tr.alert]) {
      tr.alert = level;
      tr.explanation = explanation;
    }
    this.say(`ALERT for ${tr.label}${via ? ` (raised by ${via}'s agent as carer)` : ''}: ${level} risk — ${explanation}`);
    this.#publish({ type: 'alert', device: tr.id, level, explanation: explanation.slice(0, 300) || `${level} risk`, t: this.t });
  }

  #apply(tr: Tracked, n: Narration): void {
    switch (n.kind) {
      case 'alert':
        // a carer's /status counts the alerts of the people it cares for too: its alert lines tell them apart
        if (!tr.cares?.length && RANK[n.level] > RANK[tr.alert]) this.#onAlert(tr, n.level, 'reported by the agent status');
        return;
      case 'visit-open':
        tr.visits.push({ venue: n.venue ?? '?', from: this.t });
        break;
      case 'visit-close': {
        const v = tr.visits.find((x) => x.to === undefined && x.venue === n.venue) ?? [...tr.visits].reverse().find((x) => x.to === undefined);
        // the agent closes a visit VISIT_EXIT_AFTER_MS after the last beacon frame above its exit threshold
        if (v) v.to = Math.max(v.from, this.t - VISIT_EXIT_AFTER_MS / 1000);
        this.say(`${n.text}${v ? ` after ${Math.round(((v.to ?? this.t) - v.from) / 60)} min` : ''}`);
        return;
      }
      case 'trust':
        this.#publish({ type: 'trust', device: tr.id, state: n.state });
        break;
      case 'certificate':
        this.#publish({ type: 'certificate', device: tr.id, day: Math.floor(this.sim!.clock.now() / 86_400_000) });
        break;
      default:
    }
    this.say(n.text);
  }

  /** One observation round: agents' status, positions, ledger height. */
  async observe(): Promise<void> {
    const sim = this.sim!;
    await Promise.all(
      [...this.devices.values()].map(async (tr) => {
        const pos = sim.position(tr.id);
        this.#publish({ type: 'position', device: tr.id, role: tr.role === 'wearable' ? 'wearable' : 'agent', label: tr.label, x: pos.x, y: pos.y, t: this.t });
        if (tr.link) {
          const carer = this.devices.get(this.scenario.devices.find((x) => x.id === tr.id)?.carer ?? '');
          if (carer) await tr.link.observe(Math.hypot(pos.x - sim.position(carer.id).x, pos.y - sim.position(carer.id).y));
          return;
        }
        if (!tr.proc) return;
        const raw = await tr.proc.status();
        if (raw === undefined) return;
        const next = snapshotOf(raw);
        for (const n of narrateChange(tr.label, tr.snap, next, nearestVenue(pos, this.scenario.venues)?.venue)) this.#apply(tr, n);
        tr.snap = next;
      }),
    );
    await this.proximity?.poll([...this.devices.values()].flatMap((tr) => (tr.proc ? [{ id: tr.id, api: () => tr.proc!.api }] : [])));
    const gw = this.gateway!;
    const h = gw.telemetry.heights.tracing;
    if (h !== this.#lastHeight) {
      const sth = await gw.ledger.sth('tracing');
      const records = sth?.treeSize ?? 0;
      if (h >= 0 && records > this.#lastRecords)
        this.say(`TraceCodes committed: tracing chain height ${h} (${records} ${records === 1 ? 'entry' : 'entries'} on the ledger)`);
      // TraceCodes acknowledged per real second since the last sample (the gateway's ingest counter)
      const acked = gw.telemetry.records.get();
      const at = performance.now();
      const rate = this.#lastRate && at > this.#lastRate.at ? ((acked - this.#lastRate.acked) * 1000) / (at - this.#lastRate.at) : 0;
      this.#lastRate = { acked, at };
      this.#publish({ type: 'throughput', tracecodesPerSec: Math.max(0, rate), ledgerHeight: Math.max(0, h), t: this.t });
      this.#lastHeight = h;
      this.#lastRecords = records;
    }
  }

  /** Runs the scenario to its end, the diagnoses on time, waits for the alerts; returns the result. */
  async run(): Promise<DemoResult> {
    const t0 = performance.now();
    const sc = this.scenario;
    const expect = parseExpect(sc.expect);
    const diagnosis: TrialOutcome['diagnosis'] = { done: false };
    const solver: TrialOutcome['solver'] = { done: false };
    try {
      await this.start();
      const run = this.#baseRun();
      const step = (this.diagnosisStep = new DiagnosisStep({
        gateway: this.gateway!,
        gatewayDir: join(run, 'gateway'),
        dir: run,
        bin: BIN,
        now: () => this.sim!.clock.now(),
        region: regionOf(sc),
        venues: (rigDocument(this.sim!) as { venues: { id: string; venueId: string; surface?: string }[] }).venues,
      }));
      const pending = [...sc.diagnoses].sort((a, b) => a.at - b.at);
      if (pending.length === 0) this.skipped.push('diagnosis: the scenario has none');
      while (!this.#stopped && (this.t < sc.duration || pending.length > 0)) {
        await this.observe();
        if (pending.length && pending[0]!.at <= this.t) await this.#diagnose(pending.shift()!, step, diagnosis, solver);
        await sleep(400);
      }
      // alerts travel: broadcast → followers → self-matching; wait for the expected ones (bounded)
      const settleUntil = performance.now() + (this.#o.settleMs ?? 30_000);
      this.say('scenario over; waiting for the agents to match the notification chain…');
      while (!this.#stopped && performance.now() < settleUntil) {
        await this.observe();
        const waiting = Object.entries(expect.alerts).filter(([id, levels]) => {
          const tr = this.devices.get(id);
          return tr && !tr.skipped && (tr.proc || (tr.link && !tr.link.missing())) && !levels.includes(tr.alert);
        });
        if (waiting.length === 0) break;
        await sleep(500);
      }
      await sleep(1000);
      await this.observe();
    } catch (e) {
      if (!this.#stopped) this.#print(`error: ${isBeepkitError(e) ? `${e.code} ` : ''}${(e as Error).message}`);
      if (!diagnosis.done) diagnosis.error ??= (e as Error).message;
    }
    const outcome = await this.#outcome(t0, diagnosis, solver);
    const comparison = compareOutcome(expect, outcome);
    if (this.#stopped) {
      this.#print(`interrupted after ${Math.round((performance.now() - t0) / 1000)} s, at scenario ${clockLabel(this.t)}: no verdict`);
      return { outcome, comparison, code: 130 };
    }
    for (const l of formatSummary(outcome, comparison, (id) => this.#venueName(id))) this.#print(l);
    return { outcome, comparison, code: (await this.#anchored()) && comparison.ok ? 0 : 1 };
  }

  /** With --chain: anchors what is left, prints `anchored N tree head(s) …`; false when anchoring failed. */
  async #anchored(): Promise<boolean> {
    const gw = this.gateway;
    if (!this.chain || !gw?.anchorer) return true;
    return finishChain(this.chain, gw.anchorer, gw.keys.gateway.publicKey, {
      keep: !!this.#o.keepChain,
      ledger: join(this.#baseRun(), 'gateway', 'ledger'),
      print: this.#print,
    });
  }

  #baseRun(): string {
    return this.sim!.dir.replace(/\/sim$/, '');
  }

  async #diagnose(d: { at: number; device: string }, step: DiagnosisStep, out: TrialOutcome['diagnosis'], solver: TrialOutcome['solver']): Promise<void> {
    const tr = this.devices.get(d.device);
    const label = tr?.label ?? d.device;
    if (!tr?.proc) {
      out.error = `${label} has no running agent`;
      this.say(`diagnosis of ${label} skipped: no running agent`);
      return;
    }
    for (const w of this.devices.values()) w.link?.diagnosisNow();
    this.say(`${label} tests positive. The diagnostician issues a challenge; ${label}'s agent signs a consent bundle…`);
    try {
      const r = await step.endorse(d.device, tr.proc.configPath);
      Object.assign(out, {
        done: true,
        patient: label,
        days: r.days,
        visits: r.visits,
        venueState: r.venueStates.map((v) => `${this.#venueName(v.id)} ${v.state}`).join(', '),
      });
      this.say(`Diagnosis endorsed on the tracing chain (block ${r.blockHeight}): ${r.days} pseudonym-day(s), ${r.visits} venue visit(s)`);
      for (const v of r.venueStates) {
        this.say(`${this.#venueName(v.id)} is now ${v.state}`);
        this.#publish({ type: 'venue-state', venue: v.id, state: v.state });
      }
    } catch (e) {
      out.error = `${isBeepkitError(e) ? e.code + ': ' : ''}${(e as Error).message}`;
      this.say(`diagnosis failed: ${out.error}`);
      return;
    }
    try {
      const s = await step.solve();
      Object.assign(solver, { done: true, records: s.records, published: s.published });
      this.say(
        `Solver: ${s.records} TraceCode records decrypted, ${s.endorsements} endorsement(s), ${s.published} exposure notice(s) published (fingerprints only)`,
      );
    } catch (e) {
      solver.error = `${isBeepkitError(e) ? e.code + ': ' : ''}${(e as Error).message}`;
      this.say(`solver failed: ${solver.error}`);
    }
  }

  async #outcome(t0: number, diagnosis: TrialOutcome['diagnosis'], solver: TrialOutcome['solver']): Promise<TrialOutcome> {
    const gw = this.gateway;
    let ledger: TrialOutcome['ledger'] = { tracingBlocks: 0, tracingRecords: 0, notificationBlocks: 0, verified: false, problem: 'gateway not started' };
    if (gw?.ledger && !this.#stopped) {
      try {
        const rep = await gw.ledger.verify();
        ledger = {
          tracingBlocks: rep.chains.tracing.blocks,
          tracingRecords: rep.chains.tracing.entries,
          notificationBlocks: rep.chains.notification.blocks,
          verified: rep.ok,
          ...(rep.problem ? { problem: rep.problem } : {}),
        };
      } catch (e) {
        ledger.problem = (e as Error).message;
      }
    }
    const devices: DeviceOutcome[] = [...this.devices.values()].map((tr) => {
      const visits: string[] = [];
      for (const v of tr.visits) if (!visits.includes(v.venue)) visits.push(v.venue);
      return {
        id: tr.id,
        label: tr.label,
        role: tr.role,
        visits,
        visitMinutes: tr.visits.map((v) => ((v.to ?? this.t) - v.from) / 60),
        certificate: tr.link ? tr.link.certificate : !!tr.snap?.certificate,
        tracecodes: tr.link ? tr.link.records : (tr.snap?.sealed ?? 0),
        alert: tr.alert,
        ...(tr.explanation ? { explanation: tr.explanation } : {}),
        ...(tr.skipped ? { skipped: tr.skipped } : {}),
        ...(tr.link ? { carer: tr.link.carer.setup.label, ...(tr.link.missing() ? { missing: tr.link.missing() } : {}) } : {}),
      };
    });
    const carers = [...this.devices.values()].flatMap((tr) => (tr.link ? [tr.link.outcome] : []));
    return {
      scenario: this.scenario.name,
      speed: this.speed,
      short: !!this.#o.short,
      devices,
      ledger,
      diagnosis,
      solver,
      elapsedMs: Math.round(performance.now() - t0),
      skipped: [...this.skipped],
      carers,
    };
  }

  /** Stops everything (agents first); idempotent. Removes a temporary data dir. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.allSettled([...this.devices.values()].map((d) => d.link?.stop()));
    await Promise.allSettled([...this.devices.values()].map((d) => d.proc?.stop()));
    await this.gateway?.stop().catch(() => {});
    if (this.chain && this.#o.keepChain) this.chain.anvil.detach();
    else await this.chain?.anvil.stop();
    await this.sim?.stop().catch(() => {});
    await this.dashboard?.stop().catch(() => {});
    if (this.#tempBase && this.#base && !(this.chain && this.#o.keepChain)) rmSync(this.#base, { recursive: true, force: true });
  }

  get stopped(): boolean {
    return this.#stopped;
  }
}

/** Indoor path-loss exponent of the demo's radio profile. */
export const INDOOR_EXPONENT = 3;

/**
 * The demo's radio profile: at least an indoor path-loss exponent (≈ 3 is
 * typical for a furnished room; free space, 2.0, lets a −4 dBm café beacon be
 * heard ~300 m away). The agents' visit detector ends a visit once no frame
 * above its exit threshold arrives, so visits close under either profile;
 * the indoor one keeps the beacon's reach (and so trust) realistic.
 */
export function withIndoorAir(sc: Scenario): Scenario {
  if (sc.air.pathLossExponent >= INDOOR_EXPONENT) return sc;
  return { ...sc, air: { ...sc.air, pathLossExponent: INDOOR_EXPONENT } };
}

/** The scenario's region path (its first venue's), for the diagnostician's certificate and the CA. */
export function regionOf(sc: Scenario): string {
  return sc.venues[0]?.region ?? 'demo';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
