/**
 * The scenario runner: one Air, venue beacons sending venue frames, crowd
 * members sending EN frames, and per hosted device two virtual controllers
 * (scan + advertise) and a GNSS receiver, all following the scenario's
 * trajectories on the scenario clock; faults on their timeline; a control
 * API; a rig file. Library first: embed it in-process or run `beepkit sim`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { enIntervalNumber } from '@beepkit/protocol/rpi';
import { Air } from '../air/air.ts';
import { TraceRssi } from '../air/trace.ts';
import { loadRssiTrack } from './rssi-trace.ts';
import { enuToLatLon, latLonToEnu, type Enu, type LatLon } from '../air/geo.ts';
import { GnssEmulator } from '../gnss/emulator.ts';
import { VirtualController, type Logger } from '../hci/controller.ts';
import type { EnViolation } from '../hci/conformance.ts';
import { SimCapture } from './btsnoop.ts';
import { positionAt } from '../scenario/trajectory.ts';
import type { DeviceSpec, FaultKind, FaultSpec, Scenario } from '../scenario/schema.ts';
import { ScenarioClock } from './clock.ts';
import { applyFault, type FaultTarget } from './faults.ts';
import { controllerAddress, crowdTek, enIdentity, venueFrames } from './payloads.ts';
import { ControlServer } from './control.ts';
import { writeRig } from './rig.ts';
import { shortDir } from '../paths.ts';
import type { DeviceLine, SimEvent, SimView } from './types.ts';

export interface SimOptions {
  scenario: Scenario;
  /** Directory for rig.yaml (must exist). */
  dir: string;
  /**
   * Directory for the GNSS symlinks (must exist). Default: a fresh short temp dir, removed at stop,
   * so the links fit gpsd's device path limit whatever `dir` is (firmware-stubs/src/paths.ts).
   */
  linkDir?: string;
  /** Scenario seconds per real second (default: the scenario's `speed`). */
  speed?: number;
  /** Control API port on 127.0.0.1 (omit for none; 0 for any free port). */
  controlPort?: number;
  logger?: Logger;
  /** Air seed (default: the scenario's). */
  seed?: number;
  /** UTC ms of scenario time 0 (default today 09:00Z). */
  startTime?: number;
  /** Write every hosted controller's HCI traffic to this btsnoop capture (`beepkit sim --btsnoop`). */
  btsnoop?: string;
  /** Real ms between ticks (positions, GNSS epochs, faults). Default 100. */
  tickMs?: number;
  /** GNSS epochs per real second are capped here by lengthening the epoch interval (default 10). */
  maxGnssRealHz?: number;
  /** Real time source for the clock (tests). */
  realNow?: () => number;
}

interface SimDevice extends FaultTarget {
  spec: DeviceSpec;
  scan?: VirtualController;
  adv?: VirtualController;
  override?: Enu;
  tek?: Uint8Array;
  enin?: number;
  nextEpochMs: number;
}

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const FAR: Enu = { x: 1e9, y: 1e9 };
const MAX_EVENTS = 500;
const ALT_M = 50;
/** Crowd members' EN advertising interval (EN spec: 200–270 ms). */
const EN_INTERVAL_MS = 250;

export class Sim implements SimView {
  readonly scenario: Scenario;
  readonly dir: string;
  readonly clock: ScenarioClock;
  readonly air: Air;
  /** The recorded RSSI tracks of the scenario's devices (rssiTrace), if any. */
  traces?: TraceRssi;
  readonly events: SimEvent[] = [];
  private readonly o: SimOptions;
  private readonly log: Logger;
  private readonly devices = new Map<string, SimDevice>();
  private readonly violations: { device: string; role: string; rule: string; message: string }[] = [];
  private capture?: SimCapture;
  private readonly pending: FaultSpec[];
  private reverts: { at: number; device: string; kind: FaultKind; fn: () => string }[] = [];
  private control?: ControlServer;
  private timer?: NodeJS.Timeout;
  private started = false;
  private rigPath?: string;
  private ownLinkDir?: string;
  private linkDir = '';

  constructor(o: SimOptions) {
    this.o = o;
    this.scenario = o.scenario;
    this.dir = o.dir;
    this.log = o.logger ?? silent;
    this.clock = new ScenarioClock({ speed: o.speed ?? o.scenario.speed, startTime: o.startTime, realNow: o.realNow });
    const a = o.scenario.air;
    this.air = new Air({
      seed: o.seed ?? o.scenario.seed,
      now: () => this.clock.now(),
      origin: o.scenario.origin,
      radio: { exponent: a.pathLossExponent, refLossDb: a.referenceLossDb, shadowingSigmaDb: a.shadowingSigmaDb, sensitivityDbm: a.sensitivityDbm },
    });
    this.pending = [...o.scenario.faults].sort((x, y) => x.at - y.at);
  }

  /** Control API port actually bound (after start), if any. */
  get controlPort(): number | undefined {
    return this.control?.port;
  }

  get rigFile(): string | undefined {
    return this.rigPath;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const sc = this.scenario;
    try {
      if (this.o.linkDir) this.linkDir = this.o.linkDir;
      else this.linkDir = this.ownLinkDir = shortDir('bk-sim-');
      for (const v of sc.venues) {
        for (const b of v.beacons) {
          this.air.addBeacon({
            id: b.id,
            position: b.position,
            txPower: b.txPower,
            intervalMs: b.intervalMs,
            payloadFn: venueFrames(sc, v.id, v.slotSeconds, b.txPower, () => this.clock.now()),
          });
        }
      }
      if (this.o.btsnoop) this.capture = new SimCapture(this.o.btsnoop, () => this.clock.now());
      for (const spec of sc.devices) this.addDevice(spec);
      this.installTraces();
      this.clock.resume();
      this.tick();
      this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 100);
      if (this.o.controlPort !== undefined) {
        this.control = new ControlServer(this, this.o.controlPort);
        await this.control.start();
      }
      this.rigPath = writeRig(this, join(this.dir, 'rig.yaml'));
      this.log.info({ scenario: sc.name, devices: this.deviceLines().length, speed: this.clock.speed, control: this.controlPort }, 'sim started');
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.control?.stop();
    this.control = undefined;
    for (const d of this.devices.values()) {
      d.gnss?.stop();
      d.scan?.stop();
      d.adv?.stop();
    }
    this.devices.clear();
    this.air.stop();
    await this.capture?.close();
    this.capture = undefined;
    this.clock.pause();
    if (this.rigPath) rmSync(this.rigPath, { force: true });
    this.rigPath = undefined;
    if (this.ownLinkDir) rmSync(this.ownLinkDir, { recursive: true, force: true });
    this.ownLinkDir = undefined;
    if (this.started) this.log.info({ scenario: this.scenario.name }, 'sim stopped');
    this.started = false;
  }

  pause(): void {
    if (this.clock.paused) return;
    this.clock.pause();
    // catch up to the frozen time now (an epoch or fault due at it), so nothing happens after pause() returns
    if (this.started) this.tick();
    this.record('sim', 'pause', 'api', 'clock paused');
  }

  resume(): void {
    if (!this.clock.paused) return;
    this.clock.resume();
    this.record('sim', 'resume', 'api', 'clock resumed');
  }

  /** The one-line-per-hosted-device view printed by the CLI. */
  deviceLines(): DeviceLine[] {
    const out: DeviceLine[] = [];
    for (const d of this.devices.values()) {
      if (d.spec.hostless) continue;
      const p = this.latLonOf(d);
      out.push({
        id: d.spec.id,
        role: d.spec.role,
        label: d.spec.label,
        gnss: d.gnss?.path ?? null,
        hciScan: d.scan!.path,
        hciAdvertise: d.adv!.path,
        position: { lat: p.lat, lon: p.lon },
      });
    }
    return out;
  }

  /** Every device (hosted and crowd) with its current state. */
  deviceStates(): Record<string, unknown>[] {
    return [...this.devices.values()].map((d) => {
      const pos = this.positionOf(d);
      return {
        id: d.spec.id,
        role: d.spec.role,
        label: d.spec.label,
        hostless: d.spec.hostless,
        x: pos.x,
        y: pos.y,
        position: this.latLonOf(d),
        moved: d.override !== undefined,
        radioOff: d.offUntil !== undefined,
        gnss: d.gnss ? { path: d.gnss.path, plugged: d.gnss.plugged, epochs: d.gnss.epochs, intervalMs: d.gnss.intervalMs } : null,
        hciScan: d.scan?.path ?? null,
        hciAdvertise: d.adv?.path ?? null,
        scanAddress: d.scan?.address ?? null,
        advertiseAddress: d.adv?.address ?? null,
      };
    });
  }

  /** The device's controllers and receiver (for in-process embedding and tests). */
  device(id: string): { spec: DeviceSpec; scan?: VirtualController; adv?: VirtualController; gnss?: GnssEmulator } {
    const d = this.devices.get(id);
    if (!d) throw new BeepkitError('E_NOT_FOUND', `unknown device ${id}`);
    return { spec: d.spec, scan: d.scan, adv: d.adv, gnss: d.gnss };
  }

  /**
   * The EN conformance mode's verdict over every hosted device's controllers: EN adverts checked, breaches by
   * device and rule, and the last (≤ 100) breaches.
   */
  conformance(): {
    checked: number;
    violations: number;
    byDevice: Record<string, Record<string, number>>;
    recent: { device: string; role: string; rule: string; message: string }[];
  } {
    let checked = 0;
    let violations = 0;
    const byDevice: Record<string, Record<string, number>> = {};
    for (const d of this.devices.values()) {
      for (const { ctl } of d.controllers) {
        const c = ctl.conformance;
        if (!c) continue;
        checked += c.checked;
        violations += c.total;
        if (c.total) {
          const into = (byDevice[d.id] ??= {});
          for (const [rule, n] of Object.entries(c.counts)) if (n) into[rule] = (into[rule] ?? 0) + n;
        }
      }
    }
    return { checked, violations, byDevice, recent: [...this.violations] };
  }

  /** True position (ENU) of a device now. */
  position(id: string): Enu {
    const d = this.devices.get(id);
    if (!d) throw new BeepkitError('E_NOT_FOUND', `unknown device ${id}`);
    return this.positionOf(d);
  }

  /** Pins a device at a position (ENU metres or lat/lon); it stops following its trajectory. */
  move(id: string, to: Enu | LatLon): Enu {
    const d = this.devices.get(id);
    if (!d) throw new BeepkitError('E_NOT_FOUND', `unknown device ${id}`);
    d.override = 'lat' in to ? latLonToEnu(this.scenario.origin, to) : { x: to.x, y: to.y };
    this.placeOnAir(d);
    this.record(id, 'move', 'api', `moved to ${d.override.x.toFixed(1)},${d.override.y.toFixed(1)}`);
    return { ...d.override };
  }

  /** Applies a fault now (control API). Throws E_CONFIG / E_NOTFOUND. */
  fault(f: { device: string; kind: FaultKind; duration?: number; params?: Record<string, number> }, source: SimEvent['source'] = 'api'): SimEvent {
    const d = this.devices.get(f.device);
    if (!d) throw new BeepkitError('E_NOT_FOUND', `unknown device ${f.device}`);
    const spec = { kind: f.kind, duration: f.duration ?? 0, params: f.params ?? {} };
    const now = this.clock.elapsedSeconds();
    const eff = applyFault(d, spec, now);
    if (eff.revert && eff.until !== undefined) this.reverts.push({ at: eff.until, device: d.id, kind: f.kind, fn: eff.revert });
    if (f.kind === 'ble-off') this.placeOnAir(d);
    return this.record(d.id, f.kind, source, eff.effect, spec.duration, spec.params);
  }

  private record(
    device: string,
    kind: SimEvent['kind'],
    source: SimEvent['source'],
    detail: string,
    duration?: number,
    params?: Record<string, number>,
  ): SimEvent {
    const e: SimEvent = { t: this.clock.elapsedSeconds(), time: new Date(this.clock.now()).toISOString(), device, kind, source, detail };
    if (duration !== undefined) e.duration = duration;
    if (params && Object.keys(params).length) e.params = params;
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    (kind === 'error' ? this.log.warn : this.log.info).call(this.log, e, `event ${kind} ${device}`);
    return e;
  }

  /** Devices with a recorded RSSI trace: the air reports them to their listener with those values at those times. */
  private installTraces(): void {
    const tracks = this.scenario.devices
      .filter((d) => d.rssiTrace)
      .map((d) => {
        const spec = d.rssiTrace!;
        const rx = this.scenario.devices.find((x) => x.id === spec.heardBy);
        if (!rx || rx.hostless) throw new BeepkitError('E_CONFIG', `device ${d.id}: rssiTrace.heardBy must name a device with a radio`);
        return loadRssiTrack(spec, d.hostless ? d.id : `${d.id}/adv`, `${rx.id}/scan`, this.clock.startTime);
      });
    if (tracks.length) this.air.setRssiSource((this.traces = new TraceRssi(tracks)).source);
  }

  private addDevice(spec: DeviceSpec): void {
    const d: SimDevice = { id: spec.id, spec, controllers: [], nextEpochMs: 0 };
    this.devices.set(spec.id, d);
    const start = this.positionOf(d);
    if (spec.hostless) {
      d.tek = crowdTek(this.scenario, spec.id);
      this.placeEn(d);
      return;
    }
    for (const role of ['scan', 'adv'] as const) {
      const address = controllerAddress(`${this.scenario.name}/${spec.id}/${role}`);
      // EN conformance mode on every sim controller (every HIL run and trial): GET /conformance
      const ctl = new VirtualController({
        air: this.air,
        address,
        id: `${spec.id}/${role}`,
        position: start,
        txPower: spec.txPower,
        logger: this.log,
        enConformance: true,
      });
      ctl.on('conformance', (v: EnViolation) => {
        this.violations.push({ device: spec.id, role, ...v });
        if (this.violations.length > 100) this.violations.shift();
      });
      ctl.start();
      this.capture?.attach(ctl, `${spec.id}/${role}`.slice(0, 8));
      d[role] = ctl;
      d.controllers.push({ ctl, address });
    }
    if (spec.gnss.enabled) {
      const interval = Math.round(Math.max(1000 / spec.gnss.rateHz, (this.clock.speed * 1000) / (this.o.maxGnssRealHz ?? 10)));
      d.gnss = new GnssEmulator({
        dir: this.linkDir,
        linkName: `gnss-${spec.id}`,
        intervalMs: interval,
        startTime: this.clock.startTime,
        seed: this.seedFor(spec.id),
        noiseM: spec.gnss.noise,
        coldStart: { noFix: Math.ceil((spec.gnss.fixAfter * 1000) / interval), twoD: 1 },
        clock: this.clock.gnssClock(),
        autoRun: false,
        trajectory: (tMs) => ({ ...enuToLatLon(this.scenario.origin, this.truthAt(d, tMs / 1000)), alt: ALT_M }),
        logger: this.log,
      });
      d.gnss.start();
    }
  }

  private seedFor(label: string): number {
    let h = this.scenario.seed >>> 0;
    for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    return h;
  }

  /** Where the device is at scenario second `t` (pinned position wins). */
  private truthAt(d: SimDevice, t: number): Enu {
    return d.override ?? positionAt(d.spec.path, t);
  }

  private positionOf(d: SimDevice): Enu {
    return this.truthAt(d, this.clock.elapsedSeconds());
  }

  private latLonOf(d: SimDevice): LatLon {
    const p = enuToLatLon(this.scenario.origin, this.positionOf(d));
    return { lat: p.lat, lon: p.lon };
  }

  private placeOnAir(d: SimDevice): void {
    const p = d.offUntil !== undefined ? FAR : this.positionOf(d);
    if (d.spec.hostless) {
      if (this.air.has(d.id)) this.air.setPosition(d.id, p);
      return;
    }
    for (const c of d.controllers) this.air.setPosition(c.ctl.id, p);
  }

  /** (Re)creates a crowd member's EN beacon when its 10-minute interval changes (new RPI, new address). */
  private placeEn(d: SimDevice): void {
    const now = this.clock.now();
    if (enIntervalNumber(Math.floor(now / 1000)) !== d.enin) {
      const id = enIdentity(d.tek!, now, d.spec.txPower);
      if (this.air.has(d.id)) this.air.removeBeacon(d.id);
      d.enin = id.enin;
      this.air.addBeacon({
        id: d.id,
        position: this.positionOf(d),
        txPower: d.spec.txPower,
        intervalMs: EN_INTERVAL_MS,
        payload: id.payload,
        address: id.address,
        addressType: 1,
      });
    }
    this.placeOnAir(d);
  }

  private tick(): void {
    const now = this.clock.elapsedSeconds();
    while (this.pending.length > 0 && this.pending[0]!.at <= now) {
      const f = this.pending.shift()!;
      try {
        this.fault(f, 'scenario');
      } catch (e) {
        this.record(f.device, 'error', 'scenario', `${f.kind}: ${isBeepkitError(e) ? e.message : String(e)}`);
      }
    }
    const due = this.reverts.filter((r) => r.at <= now);
    if (due.length) {
      this.reverts = this.reverts.filter((r) => r.at > now);
      for (const r of due) {
        this.record(r.device, 'end', 'sim', `${r.kind} over: ${r.fn()}`);
        const d = this.devices.get(r.device);
        if (d) this.placeOnAir(d);
      }
    }
    const nowMs = this.clock.elapsedMs();
    for (const d of this.devices.values()) {
      if (d.spec.hostless) this.placeEn(d);
      else this.placeOnAir(d);
      const g = d.gnss;
      if (!g) continue;
      for (let k = 0; k < 5 && d.nextEpochMs <= nowMs; k++) {
        g.step();
        d.nextEpochMs += g.intervalMs;
      }
    }
  }
}
