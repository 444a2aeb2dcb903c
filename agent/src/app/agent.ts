/**
 * The device agent service: wires keystore, GNSS, radio, scan pipeline,
 * encounters, visits, trust, CA requests, publisher, outbox, upload policy,
 * self-matching alerts and the health endpoint. `new Agent(config, {logger})`,
 * `start()`, `stop()`, `status()`. Everything it keeps lives in the data dir,
 * so a restart continues where it left off.
 */
import { basename, join } from 'node:path';
import { readOrSetAside, type ReadOrSetAside } from '@beepkit/device-core/infra/files';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { fromHex } from '@beepkit/protocol/bytes';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import { AlertDispatcher, CommandSink, LoggerSink, StatusSink, WebhookSink, type Alert, type AlertSink } from '../alerts/index.ts';
import type { AgentConfig } from '../config/index.ts';
import { EncounterLog, loadEncounters, saveEncounters } from '@beepkit/device-core/encounters';
import { createGnssSource, type GnssFix, type GnssSource } from '@beepkit/device-core/gnss';
import { KeystoreFile } from '@beepkit/device-core/keys';
import { Outbox } from '@beepkit/device-core/outbox';
import { HciRadio, type BtsnoopWriter, type Radio } from '@beepkit/device-core/radio';
import { MapVenueRegistry, ScanPipeline, type VenueObservation } from '@beepkit/device-core/scan';
import { TrustMachine, crossVerify, type TrustVerdict } from '../trust/index.ts';
import { VisitDetector } from '@beepkit/device-core/visits';
import { startHealthServer, renderMetrics, type AgentStatus, type HealthServer } from '../health/index.ts';
import type { AgentNetwork, NetworkFactory } from './ports.ts';
import { CarerStore } from '../carer/store.ts';
import { AgentCarer } from './carer.ts';
import { CarerAlertLog, isPagePath, startCarerPage, type CarerPageRun } from '../carer-page/index.ts';
import { RadioRunner } from '@beepkit/device-core/radio-runner';
import { Publishing } from './publishing.ts';
import { ensureApiToken, removeApiPort, writeApiPort } from './api-token.ts';
import { SHARED_FILE, deviceIdOf, ensureDataDir, loadShared, secretOf, storageKey } from './storage.ts';
import { loadVisits, saveVisits } from '@beepkit/device-core/visits';
import { hostNow } from '@beepkit/protocol/clock';
import { TimeKeeper, systemTimeProbes, type TimeProbes } from '../time/index.ts';
import { ProximityFeed, feedRoute } from './proximity-feed.ts';
import { VenueWatch } from './venue-watch.ts';
import { readUnitCalibration, receiverCalibration } from './calibration.ts';
import type { ReceiverCalibration } from '@beepkit/device-core/rssi';
import { oldestSealedMs } from '../doctor/local.ts';

export interface AgentOptions {
  logger?: Logger;
  /** A scenario clock, ms (trusted as the trial's truth). Timers still run on the host clock; `speed` (scenario ms per real ms) shortens the minute tick. */
  clock?: { now(): number; speed?: number };
  /** Test seams of the time policy (agent/src/time): the host clock it corrects (default hostNow) and the NTP probe. */
  hostClock?: () => number;
  timeProbes?: TimeProbes;
  /** The network side (MQTT, CA, uplink, follower); default: none unless wired by the CLI. */
  network?: NetworkFactory;
  /** Test seam: the radio to use instead of HciRadio from config. */
  radio?: Radio;
  /** Capture the radio's HCI traffic (`agent run --btsnoop`). */
  btsnoop?: BtsnoopWriter;
  /** Paired wearables this agent acts for as their carer (agent/src/carer). */
  carer?: CarerStore;
}

const DAY_MS = 86_400_000;

export class Agent {
  readonly #cfg: AgentConfig;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly time: TimeKeeper;
  #state: AgentStatus['state'] = 'stopped';
  #startedAt = 0;
  #day = 0;
  deviceId = '';
  keystore?: KeystoreFile;
  gnss?: GnssSource;
  radio?: RadioRunner;
  network?: AgentNetwork;
  pipeline?: ScanPipeline;
  /** The receiver's effective calibration (set at start). */
  calibration?: ReceiverCalibration;
  readonly encounters: EncounterLog;
  readonly visits: VisitDetector;
  readonly trust: TrustMachine;
  readonly registry: MapVenueRegistry;
  outbox?: Outbox;
  #publishing?: Publishing;
  #key?: Uint8Array;
  #encounters: EncounterLog;
  #lastFix: GnssFix | null = null;
  readonly #recentVenues = new Map<string, VenueObservation>();
  #verdict?: TrustVerdict;
  #caInFlight = false;
  #caNextAt = 0;
  #caLastCode?: string;
  #caRequests = 0;
  readonly #caCodes: Record<string, number> = {};
  readonly #errors: Record<string, number> = {};
  /** Requests the local API refused, by code (E_HOST, E_ORIGIN, E_AUTH, E_TOKEN, E_MEDIA_TYPE). */
  readonly #refusals: Record<string, number> = {};
  readonly #statusSink = new StatusSink();
  #alerts?: AlertDispatcher;
  readonly #alertLevels: Record<string, number> = {};
  #http?: HealthServer;
  #hciRadio?: HciRadio;
  #carerStore?: CarerStore;
  /** The carer side (config carer.enabled): pairing, sync, /carer/* routes. */
  carer?: AgentCarer;
  /** The carer page (with the carer): on the loopback API, and over TLS in LAN mode. */
  carerPage?: CarerPageRun;
  #carerAlerts?: CarerAlertLog;
  /** The per-encounter feed for a dashboard (config feed.proximity). */
  feed?: ProximityFeed;
  #venueWatch?: VenueWatch;
  readonly #timers: NodeJS.Timeout[] = [];
  #ticking = Promise.resolve();

  constructor(
    config: AgentConfig,
    private readonly opts: AgentOptions = {},
  ) {
    this.#cfg = config;
    this.#log = opts.logger ?? silentLogger;
    // the time it seals and signs with: the scenario clock, or the host clock corrected by GNSS time
    this.time = new TimeKeeper({
      host: opts.clock ? () => opts.clock!.now() : (opts.hostClock ?? hostNow),
      mono: () => performance.now(),
      scenario: !!opts.clock,
      maxOffsetMs: config.time.maxOffsetMs,
      require: config.time.require,
      probes: opts.timeProbes ?? systemTimeProbes,
      logger: this.#log,
    });
    this.#now = this.time.now;
    this.#encounters = new EncounterLog({ retentionMs: config.keystore.retentionDays * DAY_MS });
    this.encounters = this.#encounters;
    this.visits = new VisitDetector(config.visits);
    this.trust = new TrustMachine({ ttlMs: config.trust.ttlMs, logger: this.#log });
    this.registry = new MapVenueRegistry(
      config.venues.map((v) => ({ id: v.id.toLowerCase(), key: fromHex(v.key.toLowerCase()), lat: v.lat, lon: v.lon, radiusM: v.radiusM, name: v.name })),
    );
  }

  get httpPort(): number | undefined {
    return this.#http?.port;
  }

  #count(code: string): void {
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') throw new BeepkitError('E_STATE', 'agent already started');
    this.#state = 'starting';
    this.#startedAt = this.#now();
    const cfg = this.#cfg;
    try {
      await this.time.start();
      await ensureDataDir(cfg.dataDir);
      const apiToken = await ensureApiToken(cfg.dataDir); // first: a token file others can read stops the start at once
      this.deviceId = await deviceIdOf(cfg);
      const secret = await secretOf(cfg);
      this.keystore = await KeystoreFile.open(cfg.keystore.path!, secret, {
        now: () => Math.floor(this.#now() / 1000),
        logger: this.#log,
        create: { retentionDays: cfg.keystore.retentionDays },
      });
      if (this.keystore.state.retentionDays !== cfg.keystore.retentionDays) await this.keystore.setRetention(cfg.keystore.retentionDays);
      this.#key = await storageKey(cfg.dataDir, secret);
      await this.#restoreLogs();
      this.#day = Math.floor(this.#now() / DAY_MS);
      await this.#daily();
      this.outbox = new Outbox({ path: join(cfg.dataDir, 'outbox'), key: this.#key, logger: this.#log });
      await this.outbox.start();
      this.#alerts = new AlertDispatcher(this.#sinks(), { logger: this.#log });
      this.#carerStore =
        this.opts.carer ??
        (cfg.carer.enabled
          ? await new CarerStore({
              path: cfg.carer.storePath!,
              key: this.#key,
              retentionDays: cfg.keystore.retentionDays,
              wearablesDir: join(cfg.dataDir, 'wearables'),
            }).load()
          : undefined);
      // the receiver's model correction plus this unit's (beepkit agent calibrate): agent/README.md "Proximity"
      this.calibration = receiverCalibration(cfg, await readUnitCalibration(cfg.dataDir));
      const feed = (this.feed = cfg.feed.proximity
        ? new ProximityFeed({ mono: () => performance.now(), edges: this.#encounters.edges, windowsOf: (k) => this.#encounters.get(k)?.windows })
        : undefined);
      this.pipeline = new ScanPipeline({
        rssiCorrection: this.calibration.rssiCorrection,
        assumedEnTxPower: cfg.radio.txPower,
        encounters: this.#encounters,
        visits: this.visits,
        venues: this.registry,
        logger: this.#log,
        onVenue: (o) => {
          // only frames heard at presence strength count for trust (a weak one must not replace a strong one)
          if (o.filteredRssi >= cfg.visits.enterRssi) this.#recentVenues.set(o.venueId, o);
          this.#venueWatch?.heard(o.venueId);
        },
        ...(feed ? { onEncounter: (key: string, raw: number, rssi: number, att: number, at: number) => feed.observe(key, raw, rssi, att, at) } : {}),
      });
      if (this.opts.network) {
        this.network = await this.opts.network({
          config: cfg,
          deviceId: this.deviceId,
          outbox: this.outbox,
          logger: this.#log,
          now: this.#now,
          raise: (a) => this.#raise(a),
          ownPrefixes: () => this.#ownPrefixes(),
          encounters: () => this.#encounters.encounters(),
          ownVisits: () => [...this.visits.visits(), ...this.visits.current()],
          shared: () => loadShared(join(cfg.dataDir, SHARED_FILE), this.#key!),
          dayKeys: (day) => this.keystore!.dayKeys(day),
          mayUpload: () => this.#publishing?.allowed ?? false,
          // the wearables' alerts count in alerts.byLevel and the by-level metric like the agent's own
          ...(this.#carerStore
            ? {
                carer: {
                  store: this.#carerStore,
                  sinks: [...this.#sinks(), this.#levelSink, (this.#carerAlerts = new CarerAlertLog(this.#now))],
                  key: this.#key,
                },
              }
            : {}),
        });
      }
      const net = this.network;
      if (net?.venueStatus) {
        this.#venueWatch = new VenueWatch({
          query: (id) => net.venueStatus!(id),
          now: this.#now,
          nameOf: (id) => this.registry.get(id)?.name,
          logger: this.#log,
        });
      }
      this.#publishing = new Publishing({
        config: cfg,
        keystore: this.keystore,
        outbox: this.outbox,
        network: this.network,
        now: this.#now,
        logger: this.#log,
        time: { trusted: () => this.time.trusted, mono: () => performance.now() },
      });
      await this.#startGnss();
      this.#startRadio();
      if (this.network) await this.network.start();
      if (cfg.carer.enabled && this.#carerStore) {
        this.carer = new AgentCarer({
          config: cfg,
          store: this.#carerStore,
          key: this.#key,
          logger: this.#log,
          now: this.#now,
          radio: () => this.opts.radio ?? this.#hciRadio,
          proxy: () => this.network?.wearables,
          authorise: (id) => this.authoriseWearable(id),
        });
        this.carer.start();
        const refused = (code: string) => this.#refused(code);
        this.carerPage = await startCarerPage({
          config: cfg,
          carer: this.carer,
          alerts: (this.#carerAlerts ??= new CarerAlertLog(this.#now)),
          now: this.#now,
          logger: this.#log,
          refused,
        });
      }
      this.#every(cfg.trust.tickMs, () => this.#trustTick());
      this.#every(cfg.publisher.tickMs, () => this.#publishing!.publishTick(this.#verdict, this.trust.canPublish(this.#now()), this.#visitedVenue()));
      this.#every(cfg.upload.tickMs, () => this.#publishing!.uploadTick());
      this.#every(Math.max(1000, Math.round(60_000 / (this.opts.clock?.speed ?? 1))), () => this.#minuteTick());
      this.#http = await startHealthServer(
        cfg.http.host,
        cfg.http.port,
        {
          health: () => this.#health(),
          status: () => this.status(),
          metrics: () => renderMetrics(this.status()),
          control: async (method, path, body) => (await feedRoute(this.feed, !!this.opts.clock, method, path, body)) ?? this.carer?.route(method, path, body),
          refused: (r) => this.#refused(r.code),
          ...(this.carerPage ? { page: { owns: isPagePath, handle: this.carerPage.page.handle.bind(this.carerPage.page) } } : {}),
        },
        { token: apiToken, allowedHosts: cfg.http.allowedHosts, requestTimeoutMs: cfg.http.requestTimeoutMs },
      );
      await writeApiPort(cfg.dataDir, this.#http.port); // the CLI finds a kernel-chosen port here
      this.#state = 'running';
      this.#log.info(
        { http: this.#http.port, gnss: cfg.gnss.type, scanner: !!cfg.radio.scanner, advertiser: !!cfg.radio.advertiser, network: !!this.network },
        'agent started',
      );
    } catch (err) {
      this.#log.error({ code: isBeepkitError(err) ? err.code : 'E_INTERNAL', err: (err as Error).message }, 'agent: start failed');
      await this.stop().catch(() => {});
      throw err;
    }
  }

  #refused(code: string): void {
    const n = (this.#refusals[code] = (this.#refusals[code] ?? 0) + 1);
    // the first of each code, then every 100th: a hostile page cannot flood the log
    if (n === 1 || n % 100 === 0) this.#log.warn({ code, count: n }, 'agent: local API request refused');
  }

  #sinks(): AlertSink[] {
    const sinks: AlertSink[] = [new LoggerSink(this.#log), this.#statusSink];
    if (this.#cfg.alerts.webhook) sinks.push(new WebhookSink({ url: this.#cfg.alerts.webhook }));
    if (this.#cfg.alerts.command) sinks.push(new CommandSink({ command: this.#cfg.alerts.command }));
    return sinks;
  }

  readonly #levelSink: AlertSink = { name: 'levels', deliver: async (a) => void (this.#alertLevels[a.level] = (this.#alertLevels[a.level] ?? 0) + 1) };

  async #raise(alerts: Alert[]): Promise<void> {
    if (!this.#alerts) return;
    for (const a of alerts) this.#alertLevels[a.level] = (this.#alertLevels[a.level] ?? 0) + 1;
    await this.#alerts.dispatch(alerts);
  }

  /** Own pseudonyms of the retained days (for fingerprint self-matching). */
  #ownPrefixes(): { day: number; prefix: Uint8Array }[] {
    const out: { day: number; prefix: Uint8Array }[] = [];
    if (!this.keystore) return out;
    for (let d = this.#day - this.#cfg.keystore.retentionDays + 1; d <= this.#day; d++) {
      try {
        out.push({ day: d, prefix: this.keystore.dayKeys(d).pseudonym });
      } catch {
        // renounced or purged day
      }
    }
    return out;
  }

  async #restoreLogs(): Promise<void> {
    const key = this.#key!;
    const dir = this.#cfg.dataDir;
    const retentionMs = this.#cfg.keystore.retentionDays * DAY_MS;
    const enc = await readOrSetAside(join(dir, 'encounters.bin'), (p) => loadEncounters(p, key, { retentionMs }));
    if (enc.value) this.#encounters.restoreFrom(enc.value);
    this.#unreadable('encounter log', enc.unreadable);
    const vis = await readOrSetAside(join(dir, 'visits.bin'), (p) => loadVisits(p, key));
    if (vis.value) this.visits.restore(vis.value);
    this.#unreadable('visit log', vis.unreadable);
  }

  /** A log that could not be read (set aside: the new one's first save must not destroy it): counted and said. */
  #unreadable(what: string, u: ReadOrSetAside<unknown>['unreadable']): void {
    if (!u) return;
    this.#count(u.code);
    this.#log.warn({ code: u.code, setAside: u.setAside && basename(u.setAside) }, `agent: ${what} unreadable, set aside; starting a new one`);
  }

  async #saveLogs(): Promise<void> {
    if (!this.#key) return;
    const dir = this.#cfg.dataDir;
    try {
      await saveEncounters(join(dir, 'encounters.bin'), this.#encounters, this.#key);
      await saveVisits(join(dir, 'visits.bin'), this.visits.visits(), this.#key);
    } catch (err) {
      this.#count(isBeepkitError(err) ? err.code : 'E_IO');
      this.#log.warn({ code: (err as { code?: string }).code }, 'agent: saving logs failed');
    }
  }

  async #startGnss(): Promise<void> {
    const g = this.#cfg.gnss;
    if (g.type === 'none') return;
    const base = { logger: this.#log, now: this.#now, silenceMs: g.silenceMs };
    this.gnss =
      g.type === 'serial'
        ? createGnssSource({ type: 'serial', path: g.path!, baudRate: g.baudRate, maxAgeMs: g.maxAgeMs, ...base })
        : g.type === 'gpsd'
          ? createGnssSource({ type: 'gpsd', host: g.host, port: g.port, maxAgeMs: g.maxAgeMs, ...base })
          : createGnssSource({ type: 'replay', file: g.file!, ...base });
    this.gnss.on('fix', (f) => {
      this.time.observeGnss(f);
      if (f.usable || !this.#lastFix?.usable || this.#now() - this.#lastFix.receivedAt > g.maxAgeMs) this.#lastFix = f;
    });
    this.gnss.on('state', (s) => {
      if (s.state !== 'open') this.#log.info({ state: s.state }, 'agent: gnss source state');
    });
    await this.gnss.start();
  }

  #startRadio(): void {
    const r = this.#cfg.radio;
    if (!r.scanner && !r.advertiser && !this.opts.radio) return;
    if (!this.opts.radio)
      this.#hciRadio = new HciRadio({
        scanner: r.scanner,
        advertiser: r.advertiser,
        logger: this.#log,
        now: this.#now,
        powerOnTimeoutMs: r.powerOnTimeoutMs,
        btsnoop: this.opts.btsnoop,
      });
    const radio = this.opts.radio ?? this.#hciRadio!;
    radio.on('advert', (ev) => this.pipeline?.push(ev));
    this.radio = new RadioRunner({
      radio,
      scan: !!r.scanner || (!!this.opts.radio && !r.advertiser),
      advertise: !!r.advertiser,
      dutyCycle: r.dutyCycle,
      txPower: r.txPower,
      txPowerCorrection: () => this.#cfg.radio.txPowerCorrection,
      advIntervalMs: r.advertisingIntervalMs,
      ...(r.model !== undefined ? { modelTxPower: r.txPower } : {}),
      now: this.#now,
      watchdogMs: r.watchdogMs,
      logger: this.#log,
      onError: (c) => this.#count(c),
      tek: (day) => {
        try {
          return this.keystore?.dayKeys(day).tek;
        } catch {
          return undefined;
        }
      },
    });
    this.radio.start();
  }

  #every(ms: number, fn: () => Promise<void> | void): void {
    const t = setInterval(() => {
      this.#ticking = this.#ticking.then(fn).catch((err) => {
        const code = isBeepkitError(err) ? err.code : 'E_INTERNAL';
        this.#count(code);
        this.#log.warn({ code, err: (err as Error)?.message }, 'agent: tick failed');
      });
    }, ms);
    this.#timers.push(t);
  }

  /** The venue of the open visit entered last (the device is there now), if any. */
  #visitedVenue(): string | undefined {
    let best: { venueId: string; entry: number } | undefined;
    for (const v of this.visits.current()) if (!best || v.entry > best.entry) best = v;
    return best?.venueId;
  }

  /** Cross-verification; when trusted and no certificate is held for today, one CA request at a time. */
  #trustTick(): void {
    const now = this.#now();
    for (const ev of this.visits.tick(now)) this.#log.info({ type: ev.type }, 'agent: venue visit');
    const maxAge = this.#cfg.trust.maxAgeMs;
    for (const [id, o] of this.#recentVenues) if (now - o.receivedAt > 10 * maxAge) this.#recentVenues.delete(id);
    const t = this.#cfg.trust;
    this.#verdict = crossVerify({ now, gnss: this.#lastFix, venues: [...this.#recentVenues.values()] }, this.registry, {
      k: t.k,
      maxAgeMs: t.maxAgeMs,
      maxHdop: t.maxHdop,
      minSatellites: t.minSatellites,
      venueMinRssi: this.#cfg.visits.enterRssi,
    });
    this.trust.observe(this.#verdict, now);
    void this.#maybeRequestCertificate(now);
  }

  async #maybeRequestCertificate(now: number): Promise<void> {
    const v = this.#verdict;
    const net = this.network;
    if (!net || !v?.ok || !this.trust.canPublish(now) || this.#caInFlight || now < this.#caNextAt || !this.time.trusted) return;
    const day = Math.floor(now / DAY_MS);
    if (net.certificate(day)) return;
    let keys;
    try {
      keys = this.keystore!.dayKeys(day);
    } catch {
      return; // today renounced: no certificate
    }
    this.#caInFlight = true;
    this.#caRequests++;
    try {
      const signer = new Ed25519Signer(keys.signingSeed);
      await net.authorise(v.evidence, { publicKey: keys.pseudonym, sign: (m) => signer.sign(m) });
      this.#caLastCode = 'OK';
      this.#log.info({}, 'agent: certificate obtained for today');
    } catch (err) {
      const code = isBeepkitError(err) ? err.code : 'E_INTERNAL';
      this.#caLastCode = code;
      this.#caCodes[code] = (this.#caCodes[code] ?? 0) + 1;
      this.#caNextAt = this.#now() + Math.min(300_000, 5_000 * 2 ** Math.min(6, this.#caCodes[code] - 1));
      this.#log.warn({ code }, 'agent: no certificate');
    } finally {
      this.#caInFlight = false;
    }
  }

  /**
   * Requests the missing certificates of a paired wearable with the carer's
   * current trusted evidence. Call while the BLE link to it is up (after a
   * sync): the link is the co-location evidence (wearable/README.md).
   */
  async authoriseWearable(wearableId: string): Promise<number[]> {
    const w = this.network?.wearables;
    const v = this.#verdict;
    if (!w || !v?.ok || !this.trust.canPublish(this.#now())) return [];
    const today = Math.floor(this.#now() / DAY_MS);
    // the evidence is of now: only today's certificate can be asked for
    if (!(await w.missingCertificates(wearableId)).includes(today)) return [];
    await w.authorise(wearableId, v.evidence);
    return [today];
  }

  /** Once a minute: persist logs, forget idle peers, and at a new UTC day run the daily maintenance. */
  async #minuteTick(): Promise<void> {
    const now = this.#now();
    this.pipeline?.purgeIdle(now, 15 * 60_000);
    const day = Math.floor(now / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      await this.#daily();
    }
    await this.#saveLogs();
  }

  /** Destroys keys and records past the retention window. */
  async #daily(): Promise<void> {
    const now = this.#now();
    const retention = this.#cfg.keystore.retentionDays;
    await this.keystore?.purge();
    this.#encounters.purge(now);
    this.visits.purge(now - retention * DAY_MS);
    await this.network?.purgeBefore?.(this.#day - retention + 1);
    this.#log.info({ day: this.#day }, 'agent: daily key maintenance');
  }

  #health(): { ok: boolean; detail: Record<string, unknown> } {
    const failure = this.network?.failure;
    return { ok: this.#state === 'running' && !failure, detail: { state: this.#state, ...(failure ? { failure } : {}) } };
  }

  status(): AgentStatus {
    const now = this.#now();
    const f = this.#lastFix;
    const v = this.#verdict;
    const day = Math.floor(now / DAY_MS);
    const stats = this.pipeline?.stats;
    const current = this.visits.current();
    const open = current.length;
    const dwellMs = [...this.visits.visits(), ...current].reduce((sum, x) => sum + Math.max(0, (x.exit ?? now) - x.entry), 0);
    const ob = this.outbox?.stats();
    return {
      state: this.#state,
      uptimeSeconds: this.#startedAt ? Math.floor((now - this.#startedAt) / 1000) : 0,
      day,
      gnss: {
        type: this.#cfg.gnss.type,
        state: this.gnss?.state ?? 'closed',
        usable: !!f?.usable,
        ...(f?.reason ? { reason: f.reason } : {}),
        ...(f ? { mode: f.mode, fixAgeMs: now - f.receivedAt } : {}),
        ...(f?.satellitesUsed !== undefined ? { satellites: f.satellitesUsed } : {}),
        counters: this.gnss?.counters ?? {},
      },
      radio: {
        scanner: this.radio?.scanner ?? 'none',
        advertiser: this.radio?.advertiser ?? 'none',
        scanning: !!this.radio?.scanning,
        advertising: !!this.radio?.advertising,
        ...(this.radio?.lastError ? { lastError: this.radio.lastError } : {}),
        counters: { ...(this.radio?.counters ?? {}) },
        txPower: { ...(this.radio?.txPower ?? { controller: null, correction: 0, advertised: null, source: null }) },
      },
      scan: {
        total: stats?.total ?? 0,
        accepted: stats?.accepted ?? 0,
        peers: this.pipeline?.peerCount ?? 0,
        byKind: { ...(stats?.byKind ?? {}) },
        rejects: { ...(stats?.rejects ?? {}) },
      },
      trust: { state: this.trust.state, ...(v ? { reason: v.ok ? 'agree' : v.reason } : {}), counters: { ...this.trust.counters } },
      certificate: {
        today: !!this.network?.certificate(day),
        requests: this.#caRequests,
        inFlight: this.#caInFlight,
        ...(this.#caLastCode ? { lastCode: this.#caLastCode } : {}),
        codes: { ...this.#caCodes },
      },
      encounters: this.#encounters.size,
      ...(this.calibration ? { proximity: this.#proximityStatus(this.calibration) } : {}),
      visits: { open, total: this.visits.visits().length + open, seconds: Math.floor(dwellMs / 1000) },
      ...(this.#venueWatch?.status() ? { venue: this.#venueWatch.status() } : {}),
      ...(this.feed ? { feed: { peers: this.feed.peerCount, ...this.feed.counters } } : {}),
      publisher: { ...(this.#publishing?.counts ?? {}) },
      outbox: {
        depth: ob?.pending ?? 0,
        bytes: ob?.pendingBytes ?? 0,
        ...(ob?.pending
          ? {
              oldestMs: oldestSealedMs(
                this.outbox!.pending().map((p) => ({ day: p.group, bytes: p.bytes })),
                this.#cfg.publisher.intervalMs,
              ),
            }
          : {}),
      },
      network: { state: this.network?.state ?? 'none', counters: this.network?.counters() ?? {} },
      upload: {
        ...(this.#publishing?.lastUpload ? { lastDecision: this.#publishing.lastUpload } : {}),
        ...(this.network?.lastReceiptMs !== undefined ? { lastReceiptMs: this.network.lastReceiptMs } : {}),
        counters: { ...(this.#publishing?.uploadCounts ?? {}) },
      },
      alerts: { total: this.#statusSink.snapshot().count, byLevel: { ...this.#alertLevels } },
      errors: { ...this.#errors },
      time: {
        ...this.time.status(),
        held: { ...(this.#publishing?.timeHeld ?? { publish: 0, upload: 0 }) },
        backlog: this.#publishing?.backlog ?? { size: 0, dropped: 0 },
      },
      api: { refusals: { ...this.#refusals } },
      ...(this.carer ? { carer: this.carer.service.status() } : {}),
    };
  }

  #proximityStatus(c: ReceiverCalibration): NonNullable<AgentStatus['proximity']> {
    let close = 0;
    let total = 0;
    for (const e of this.#encounters.encounters()) {
      for (const w of e.windows) {
        close += w.msClose ?? 0;
        for (const ms of w.msByBucket) total += ms;
      }
    }
    const min = (ms: number): number => Math.round(ms / 600) / 100;
    return {
      closeMinutes: min(close),
      totalMinutes: min(total),
      model: c.model.name,
      modelSource: c.model.source,
      rssiCorrection: c.rssiCorrection,
      txPower: c.txPower,
      tableVersion: c.tableVersion,
    };
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped' && !this.keystore) return;
    this.#state = 'stopping';
    for (const t of this.#timers.splice(0)) clearInterval(t);
    await this.#ticking;
    const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn();
      } catch (err) {
        this.#count(isBeepkitError(err) ? err.code : 'E_IO');
        this.#log.warn({ what, err: (err as Error)?.message }, 'agent: stop step failed');
      }
    };
    await step('http', () => this.#http?.close());
    await step('http', () => removeApiPort(this.#cfg.dataDir));
    await step('carer page', () => this.carerPage?.close());
    await step('carer', () => this.carer?.stop());
    await step('radio', () => this.radio?.stop());
    await step('gnss', () => this.gnss?.stop());
    this.time.stop();
    await step('network', () => this.network?.stop());
    await step('publisher', () => this.#publishing?.flush());
    await step('logs', () => this.#saveLogs());
    await step('outbox', () => this.outbox?.stop());
    this.#http = undefined;
    this.carer = undefined;
    this.carerPage = undefined;
    this.#hciRadio = undefined;
    this.keystore = undefined;
    this.#state = 'stopped';
    this.#log.info({}, 'agent stopped');
  }
}
