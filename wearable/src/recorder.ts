/**
 * The wearable recording like an agent, offline and without GNSS: the agent's
 * radio scanner (HciRadio, scanning only, on a controller of its own: on a UART
 * transport one host owns a controller, and the peripheral's bleno owns the
 * other), its scan pipeline (EN peers → the encounter log), its visit detector
 * and its Publisher, which turns stays into TraceCodes sealed for the day's
 * pseudonym and queued in the wearable's encrypted outbox for the carer.
 *
 * Venues. The wearable holds no venue list (no network: the CA's registry and
 * the venue keys are out of reach), and the agent's pipeline rejects every frame
 * of a venue its registry does not know (E_VENUE_UNKNOWN), so such an agent logs
 * no visit at all. The wearable instead records the venue frames it hears
 * unverified: fresh by slot (the frame's slot within DEFAULT_SLOT_WINDOW of the
 * clock, as the pipeline's replay check), RSSI filtered per venue like the
 * pipeline's peers, then the agent's VisitDetector (same K-of-T entry, exit
 * hysteresis). Its geodata is venue-only (Level.venue: the 8-byte venue id, no
 * position, source = beacon): a wearable never knows where a venue is.
 *
 * Stays. At each publish tick the open visit heard last is the "fix"; the
 * Publisher opens a stay, extends it while the wearable stays, and seals it when
 * it ends (gap: an interval with no visit; moved: another venue; cap); entering
 * another venue seals it at once (not at the next decision). There is
 * no certificate on the wearable (the carer obtains it while the link is up),
 * so the publisher is told the day itself is valid; sealing needs the solver's
 * X25519 public key (the one a certificate carries), provisioned once.
 */
import { EventEmitter } from 'node:events';
import { basename, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { BeepkitError } from '@beepkit/protocol';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { decodeAdvert, DEFAULT_SLOT_WINDOW, slotOf, venueId8 } from '@beepkit/protocol/frames';
import { Source, type Fix } from '@beepkit/protocol/geodata';
import { TraceCodeSealer } from '@beepkit/protocol/tracecode';
import { EncounterLog, loadEncounters, saveEncounters } from '@beepkit/device-core/encounters';
import { HciRadio, buildEnAdvert, type BtsnoopWriter, type HciTarget, type Radio } from '@beepkit/device-core/radio';
import { carerIrk, encodeMetadata, enIntervalNumber, formatBleAddress, intervalIds, rpaForRpi } from '@beepkit/protocol/rpi';
import { RssiFilter } from '@beepkit/device-core/rssi';
import { ScanPipeline, type AdvertEvent } from '@beepkit/device-core/scan';
import { VisitDetector, loadVisits, saveVisits, type VisitOptions } from '@beepkit/device-core/visits';
import { Publisher } from '@beepkit/device-core/publisher';
import { RadioRunner } from '@beepkit/device-core/radio-runner';
import { readOrSetAside, writeFileAtomic, type ReadOrSetAside } from '@beepkit/device-core/infra/files';
import { silentLogger, type Logger, type WearableState } from './state.ts';

const DAY_MS = 86_400_000;
/** The last sealed TraceCode's day and interval (no location): `{"day": N, "interval": N}`. */
const LAST_SEALED = 'publisher.json';

export interface RecorderOptions {
  state: WearableState;
  /** The scanner's controller (not the peripheral's when the transport is UART). */
  scanner?: HciTarget;
  /** Test seam: a Radio instead of HciRadio. */
  radio?: Radio;
  /** Clock, ms (the scenario clock under a sim). */
  now: () => number;
  /** Scenario ms per real ms (shortens the real tick). */
  speed?: number;
  /** The solver's X25519 public key: without it stays are not sealed (visits and encounters are still logged). */
  solverKey?: Uint8Array;
  visits?: VisitOptions;
  publisher?: { intervalMs?: number; maxStayIntervals?: number };
  /**
   * Advertises the wearable's EN advert of the current 10-minute interval (null: today renounced) from `enAddress`,
   * the non-resolvable private address derived with the RPI (as the agent does), and, once paired, gives the
   * pairing advert's address `carerAddress`: a resolvable private address of the carer pairing's IRK made from
   * the same RPI (only the carer resolves it). Both rotate in lockstep with the RPI.
   */
  advertise?: (ad: Uint8Array | null, enAddress?: string, carerAddress?: string) => void;
  /** TX power announced in the EN metadata, dBm, or where to read it (the controller's; default −8 while unknown). */
  txPower?: number | (() => number | undefined);
  /** Capture the scanner's HCI traffic (`--btsnoop`). */
  btsnoop?: BtsnoopWriter;
  /** This receiver's RSSI correction, dB. */
  rssiCorrection?: number;
  powerOnTimeoutMs?: number;
  logger?: Logger;
}

export interface RecorderStatus {
  scanning: boolean;
  adverts: number;
  venueFrames: number;
  staleVenueFrames: number;
  enRotations: number;
  encounters: number;
  visits: { open: number; total: number };
  traceCodes: Record<string, number>;
  pending: number;
}

export interface RecorderEvents {
  visit: [{ type: 'enter' | 'exit'; venueId: string }];
  sealed: [{ day: number }];
}

export class WearableRecorder extends EventEmitter<RecorderEvents> {
  readonly encounters: EncounterLog;
  readonly visits: VisitDetector;
  readonly pipeline: ScanPipeline;
  publisher: Publisher;
  private lastSealed?: { day: number; interval: number };
  private runner?: RadioRunner;
  private readonly log: Logger;
  private readonly filters = new Map<string, RssiFilter>();
  private readonly heard = new Map<string, number>();
  private sealer?: { key: string; s: TraceCodeSealer };
  private timers: NodeJS.Timeout[] = [];
  private ticking: Promise<void> = Promise.resolve();
  private venueFrames = 0;
  private staleVenueFrames = 0;
  private adverts = 0;
  private day = -1;
  private enin = -1;
  /** The RPIs this wearable advertised lately: its own scanner hears them, they are no encounter. */
  private readonly own: string[] = [];
  private rotations = 0;

  constructor(private readonly o: RecorderOptions) {
    super();
    this.log = o.logger ?? silentLogger;
    const retentionMs = o.state.keystore.state.retentionDays * DAY_MS;
    this.encounters = new EncounterLog({ retentionMs });
    this.visits = new VisitDetector(o.visits);
    this.pipeline = new ScanPipeline({ encounters: this.encounters, rssiCorrection: o.rssiCorrection, logger: this.log });
    o.state.useEncounterLog(() => this.encounters.encounters()); // what the carer gets on each sync
    this.publisher = this.makePublisher();
  }

  /**
   * The Publisher; `last` restores the last sealed interval of a previous process on this data dir
   * (`wearable pair` then `wearable run`, or a restart): a TraceCode interval is unique per
   * pseudonym-day (a batch with one twice is refused as malformed), so no stay reopens in it.
   */
  private makePublisher(last?: { day: number; interval: number }): Publisher {
    const o = this.o;
    return new Publisher({
      config: { level: 'venue', intervalMs: o.publisher?.intervalMs, maxStayIntervals: o.publisher?.maxStayIntervals },
      seal: (day, interval, geodata) => {
        const tc = this.sealerOf(day).seal(interval, geodata);
        this.lastSealed = { day, interval };
        return tc;
      },
      sink: async (tc, day) => {
        await o.state.record(tc, day);
        if (this.lastSealed) await writeFileAtomic(this.file(LAST_SEALED), JSON.stringify(this.lastSealed));
        this.emit('sealed', { day });
        this.log.info({ day, pending: o.state.outbox.pending().length }, 'wearable: stay sealed into the outbox');
      },
      ...(last ? { state: { last: { ...last, cell: '' } } } : {}),
      logger: this.log,
    });
  }

  private file(name: string): string {
    return join(this.o.state.dataDir, name);
  }

  /** A log that could not be read (set aside: a new one's first save must not destroy it) is said. */
  private unreadable(what: string, u: ReadOrSetAside<unknown>['unreadable']): void {
    if (u) this.log.warn({ code: u.code, setAside: u.setAside && basename(u.setAside) }, `wearable: ${what} unreadable, set aside; starting a new one`);
  }

  async start(): Promise<void> {
    const key = this.o.state.logKey();
    const retentionMs = this.o.state.keystore.state.retentionDays * DAY_MS;
    const enc = await readOrSetAside(this.file('encounters.bin'), (p) => loadEncounters(p, key, { retentionMs }));
    if (enc.value) this.encounters.restoreFrom(enc.value);
    this.unreadable('encounter log', enc.unreadable);
    const vis = await readOrSetAside(this.file('visits.bin'), (p) => loadVisits(p, key));
    if (vis.value) this.visits.restore(vis.value);
    this.unreadable('visit log', vis.unreadable);
    const last = await readFile(this.file(LAST_SEALED), 'utf8')
      .then((x) => JSON.parse(x) as { day?: unknown; interval?: unknown })
      .catch(() => undefined);
    if (last && Number.isInteger(last.day) && Number.isInteger(last.interval) && last.day === Math.floor(this.o.now() / DAY_MS)) {
      this.publisher = this.makePublisher({ day: last.day as number, interval: last.interval as number });
    }
    if (!this.o.solverKey) this.log.warn({}, 'wearable: no solver key provisioned: visits are logged but no TraceCode is sealed');
    const radio =
      this.o.radio ??
      new HciRadio({ scanner: this.o.scanner, logger: this.log, now: this.o.now, powerOnTimeoutMs: this.o.powerOnTimeoutMs, btsnoop: this.o.btsnoop });
    radio.on('advert', (ev) => this.onAdvert(ev));
    this.runner = new RadioRunner({
      radio,
      scan: true,
      advertise: false,
      dutyCycle: 'continuous',
      txPower: -8,
      tek: () => undefined,
      now: this.o.now,
      watchdogMs: 30_000,
      logger: this.log,
    });
    this.runner.start();
    await this.tick();
    const speed = this.o.speed ?? 1;
    this.every(Math.max(200, Math.min(5_000, Math.round(30_000 / speed))), () => this.tick());
    this.every(Math.max(1_000, Math.round(60_000 / speed)), () => this.save());
    this.log.info({ scanner: true, sealing: !!this.o.solverKey }, 'wearable: recording');
  }

  private every(ms: number, fn: () => Promise<void>): void {
    this.timers.push(
      setInterval(() => {
        this.ticking = this.ticking
          .then(fn)
          .catch((e) => this.log.warn({ code: (e as { code?: string })?.code ?? 'E_INTERNAL', err: (e as Error)?.message }, 'wearable: tick failed'));
      }, ms),
    );
  }

  private onAdvert(ev: AdvertEvent): void {
    this.adverts++;
    let a;
    try {
      a = decodeAdvert(ev.data);
    } catch {
      this.pipeline.push(ev); // counted there by code
      return;
    }
    if (a.kind === 'exposure-notification' && this.own.includes(toHex(a.rpi))) return;
    if (a.kind !== 'beepkit-venue') {
      this.pipeline.push(ev);
      return;
    }
    this.venueFrames++;
    if (Math.abs(a.slot - slotOf(Math.max(0, ev.receivedAt) / 1000)) > DEFAULT_SLOT_WINDOW) {
      this.staleVenueFrames++;
      return;
    }
    const id = toHex(a.venueId);
    let f = this.filters.get(id);
    if (!f) this.filters.set(id, (f = new RssiFilter()));
    const rssi = f.update(ev.rssi) + (this.o.rssiCorrection ?? 0);
    if (rssi >= this.visits.exitRssi) this.heard.set(id, Math.max(this.heard.get(id) ?? 0, ev.receivedAt));
    for (const e of this.visits.observe(id, rssi, a.txPower - rssi, ev.receivedAt) ?? []) this.onVisit(e.type, id);
  }

  private onVisit(type: 'enter' | 'exit', venueId: string): void {
    this.log.info({ type, visits: this.visits.visits().length + this.visits.current().length }, 'wearable: venue visit');
    this.emit('visit', { type, venueId });
    // entering another venue ends the open stay now (not at the next decision): its TraceCode is ready for the carer
    const stay = this.publisher.state.stay;
    if (type === 'enter' && this.o.solverKey && stay && !stay.cell.endsWith(`:${toHex(venueId8(venueId))}`)) {
      this.ticking = this.ticking
        .then(() => this.publisher.flush())
        .catch((e) => this.log.warn({ err: (e as Error)?.message }, 'wearable: sealing the stay failed'));
    }
  }

  private sealerOf(day: number): TraceCodeSealer {
    if (!this.o.solverKey) throw new BeepkitError('E_STATE', 'no solver key');
    const keys = this.o.state.keystore.dayKeys(day);
    const k = `${day}:${toHex(keys.pseudonym)}`;
    if (this.sealer?.key !== k)
      this.sealer = { key: k, s: new TraceCodeSealer({ prefix: keys.pseudonym, ephemeralPriv: keys.ephemeralPriv, solverPub: this.o.solverKey }) };
    return this.sealer.s;
  }

  /** The open visit heard last, as a venue-only fix. */
  private fix(now: number): Fix | undefined {
    let best: { id: string; at: number } | undefined;
    for (const v of this.visits.current()) {
      const at = this.heard.get(v.venueId) ?? v.entry;
      if (!best || at > best.at) best = { id: v.venueId, at };
    }
    if (!best) return undefined;
    const t = Math.floor(Math.min(best.at, now) / 1000);
    return { start: t, end: t, lat: 0, lon: 0, accuracy: 0, sources: Source.beacon, venue: venueId8(best.id) };
  }

  async tick(): Promise<void> {
    const now = this.o.now();
    for (const e of this.visits.tick(now)) this.onVisit(e.type, e.visit.venueId);
    const day = Math.floor(now / DAY_MS);
    this.rotate(now, day);
    if (day !== this.day) {
      if (this.day >= 0) this.encounters.purge(now);
      this.day = day;
    }
    if (!this.o.solverKey) return;
    const fix = this.fix(now);
    const dayS = day * 86_400;
    await this.publisher.tick({ now, fix, trusted: !!fix, cert: { day, notBefore: dayS, notAfter: dayS + 86_399 } });
  }

  /** The wearable's own EN identifiers: a new RPI | AEM at every 10-minute interval (UTC day → that day's TEK). */
  private rotate(now: number, day: number): void {
    const enin = enIntervalNumber(Math.floor(now / 1000));
    if (!this.o.advertise || enin === this.enin) return;
    this.enin = enin;
    let tek: Uint8Array | undefined;
    try {
      tek = this.o.state.keystore.dayKeys(day).tek;
    } catch {
      tek = undefined; // renounced day: no identifiers
    }
    if (!tek) return this.o.advertise(null);
    const tx = typeof this.o.txPower === 'function' ? this.o.txPower() : this.o.txPower;
    const [ids] = intervalIds(tek, enin, 1, encodeMetadata(tx !== undefined && Number.isInteger(tx) ? Math.max(-127, Math.min(20, tx)) : -8));
    this.own.unshift(toHex(ids.rpi));
    this.own.length = Math.min(this.own.length, 3);
    // paired: the pairing advert from a resolvable private address its carer resolves (finds the wearable among strangers)
    const pk = this.o.state.pairing?.pairingKey;
    const carer = pk ? rpaForRpi(carerIrk(fromHex(pk)), ids.rpi) : undefined;
    this.o.advertise(buildEnAdvert(ids.rpi, ids.aem), formatBleAddress(ids.address).toLowerCase(), carer);
    this.rotations++;
  }

  /** New identifiers now (after a revocation: today's key is new, the address no longer the old pairing's RPA). */
  rekey(): void {
    this.enin = -1;
    this.rotate(this.o.now(), Math.floor(this.o.now() / DAY_MS));
  }

  async save(): Promise<void> {
    const key = this.o.state.logKey();
    await saveEncounters(this.file('encounters.bin'), this.encounters, key);
    await saveVisits(this.file('visits.bin'), this.visits.visits(), key);
  }

  status(): RecorderStatus {
    const open = this.visits.current().length;
    return {
      scanning: !!this.runner?.scanning,
      adverts: this.adverts,
      venueFrames: this.venueFrames,
      staleVenueFrames: this.staleVenueFrames,
      enRotations: this.rotations,
      encounters: this.encounters.size,
      visits: { open, total: open + this.visits.visits().length },
      traceCodes: { ...this.publisher.counts },
      pending: this.o.state.outbox.pending().length,
    };
  }

  /** Seals the open stay, saves the logs, stops the radio. */
  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.ticking;
    await this.runner?.stop();
    if (this.o.solverKey) await this.publisher.flush().catch((e) => this.log.warn({ err: (e as Error).message }, 'wearable: flush failed'));
    await this.save().catch((e) => this.log.warn({ err: (e as Error).message }, 'wearable: saving logs failed'));
  }
}
