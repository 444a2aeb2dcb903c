/**
 * The carer's agent acting for its paired wearables (issue 8): per wearable an
 * outbox (own file under the agent's data dir, fed by the CarerClient's sink,
 * group = UTC day), a certificate store, a CA client (requests signed by the
 * wearable's pseudonym of the day, evidence from the carer's own trusted
 * location while the BLE link is up: see wearable/README.md) and an Uplink
 * signing batches with the wearable's pseudonym; notification blocks are also
 * self-matched for every wearable, alerts name the person cared for and go
 * through a per-wearable AlertDispatcher (deduplicated like the carer's own).
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex } from '@beepkit/protocol/bytes';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { silentLogger, type Logger } from '../alerts/logger.ts';
import { AlertDispatcher, alertKey, type AlertSink } from '../alerts/index.ts';
import { Outbox } from '@beepkit/device-core/outbox';
import { CaClient, CertStore, type StoredCertificate } from '../ca-client/index.ts';
import { Uplink, type UplinkOptions, type UplinkTransport } from '../uplink/index.ts';
import { decodeEntry, type VerifiedBlock } from '../follow/index.ts';
import { packFingerprintBlock, type EndorsedTek } from '../matching/index.ts';
import type { EvidenceBundle } from '../trust/index.ts';
import { handToOutbox, matchForWearables, matchTeksForWearables, type CarerAlert } from './expose.ts';
import type { CarerStore } from './store.ts';
import type { SyncResult, WearableRecord } from './client.ts';
import { hostNow } from '@beepkit/protocol/clock';

export interface WearableProxyOptions {
  store: CarerStore;
  /** The agent's data dir: per wearable `wearables/<id>/{outbox,certs,quarantine}`. */
  dataDir: string;
  /** 32-byte key sealing the outboxes at rest (the agent's storage key). */
  key?: Uint8Array;
  /** The carer's MQTT connection (AgentMqtt): uploads and CA requests travel on it. */
  mqtt: UplinkTransport;
  caPublicKey: Uint8Array;
  gatewayPublicKey: Uint8Array | readonly Uint8Array[];
  /** Where the wearables' alerts go (the agent's sinks). */
  sinks: AlertSink[];
  /** Also publish each new alert on the carer topic (optional). */
  publishAlert?: (a: CarerAlert) => Promise<void>;
  mayUpload?: () => boolean | Promise<boolean>;
  now?: () => number;
  retentionDays?: number;
  logger?: Logger;
  /** Uplink tuning (tests: backoff, batch sizes). */
  uplink?: Pick<UplinkOptions, 'backoff' | 'rateBackoffMs' | 'random' | 'replyTimeoutMs' | 'policyPollMs'>;
  batchMaxItems?: number;
}

export interface WearableUnit {
  wearableId: string;
  outbox: Outbox;
  certs: CertStore;
  ca: CaClient;
  uplink: Uplink;
  alerts: AlertDispatcher;
}

export class WearableProxy extends EventEmitter {
  readonly #o: WearableProxyOptions;
  readonly #log: Logger;
  readonly #units = new Map<string, Promise<WearableUnit>>();
  /** Days whose certificate an uplink asked for (E_CERT / E_EXPIRED), per wearable. */
  readonly #wanted = new Map<string, Set<number>>();
  #running = false;

  constructor(opts: WearableProxyOptions) {
    super();
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    this.#running = true;
    await Promise.all(this.#o.store.list().map((w) => this.unit(w.wearableId)));
  }

  async stop(): Promise<void> {
    this.#running = false;
    const units = await Promise.all([...this.#units.values()].map((p) => p.catch(() => undefined)));
    this.#units.clear();
    for (const u of units) {
      if (!u) continue;
      await u.uplink.stop();
      await u.outbox.stop();
    }
  }

  /** The wearable's unit (opened on first use). */
  unit(wearableId: string): Promise<WearableUnit> {
    if (!this.#running) return Promise.reject(new BeepkitError('E_STATE', 'wearable proxy not started'));
    let p = this.#units.get(wearableId);
    if (!p) {
      p = this.#open(wearableId);
      this.#units.set(wearableId, p);
      p.catch(() => this.#units.delete(wearableId));
    }
    return p;
  }

  async #open(wearableId: string): Promise<WearableUnit> {
    const o = this.#o;
    o.store.find(wearableId);
    const dir = join(o.dataDir, 'wearables', wearableId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const outbox = new Outbox({ path: join(dir, 'outbox'), key: o.key, logger: this.#log, batchMaxItems: o.batchMaxItems });
    await outbox.start();
    const certs = await new CertStore(join(dir, 'certs')).load();
    const ca = new CaClient({ mqtt: o.mqtt, store: certs, caPublicKey: o.caPublicKey, now: o.now ?? hostNow, logger: this.#log });
    const uplink = new Uplink({
      outbox,
      mqtt: o.mqtt,
      certificates: certs,
      gatewayPublicKey: o.gatewayPublicKey,
      quarantineDir: join(dir, 'quarantine'),
      dayKeys: (day) => this.#dayKeys(wearableId, day),
      mayUpload: o.mayUpload,
      logger: this.#log,
      ...o.uplink,
    });
    uplink.on('reauthorise', (r: { day: number }) => {
      const s = this.#wanted.get(wearableId) ?? new Set<number>();
      s.add(r.day);
      this.#wanted.set(wearableId, s);
      this.emit('certificate-needed', { wearableId, day: r.day });
    });
    for (const ev of ['delivered', 'idle', 'quarantined']) uplink.on(ev, (x: unknown) => this.emit(ev, { wearableId, ...(x as object) }));
    await uplink.start();
    return { wearableId, outbox, certs, ca, uplink, alerts: new AlertDispatcher(o.sinks, { logger: this.#log }) };
  }

  #dayKeys(wearableId: string, day: number): { signingSeed: Uint8Array; ephemeralPub: Uint8Array } {
    const d = this.#o.store.find(wearableId).days.find((x) => x.day === day);
    if (!d) throw new BeepkitError('E_KEY', `no key of the wearable for day ${day}`);
    return { signingSeed: fromHex(d.signingSeed), ephemeralPub: fromHex(d.ephemeralPub) };
  }

  /** The CarerClient's sink: stores the record durably in the wearable's outbox (before the carer acks it). */
  async take(r: WearableRecord): Promise<void> {
    const u = await this.unit(r.wearableId);
    const res = await handToOutbox(u.outbox, [r]);
    if (res.refused) throw new BeepkitError('E_FULL', `wearable outbox full (${res.refused} refused)`);
    u.uplink.kick();
  }

  /** After a sync: new day keys may unblock parked batches. */
  async synced(res: SyncResult): Promise<void> {
    (await this.unit(res.wearableId)).uplink.kick();
  }

  /** Days (with records or asked for by the uplink) whose certificate the wearable lacks. */
  async missingCertificates(wearableId: string): Promise<number[]> {
    const u = await this.unit(wearableId);
    const days = new Set([...u.outbox.pending().map((i) => i.group), ...(this.#wanted.get(wearableId) ?? [])]);
    const held = new Set(this.#o.store.find(wearableId).days.map((d) => d.day));
    return [...days].filter((d) => held.has(d) && !u.certs.get(d)).sort((a, b) => a - b);
  }

  /**
   * Requests the wearable's certificate for the evidence's UTC day from the CA: signed by the
   * wearable's pseudonym key of that day, with the carer's own trusted evidence.
   * Call only while the BLE link to the wearable is up (the link is the
   * co-location evidence; wearable/README.md).
   */
  async authorise(wearableId: string, evidence: EvidenceBundle): Promise<StoredCertificate> {
    const day = Math.floor(evidence.time / 86_400_000);
    const u = await this.unit(wearableId);
    const signer = new Ed25519Signer(this.#dayKeys(wearableId, day).signingSeed);
    const stored = await u.ca.authorise(evidence, { publicKey: signer.publicKey, sign: (m) => signer.sign(m) });
    this.#wanted.get(wearableId)?.delete(day);
    this.#log.info({ wearable: wearableId, day }, 'carer: certificate obtained for the wearable');
    return stored;
  }

  /** Self-matches a verified notification block for every paired wearable; new alerts name the person. */
  async onBlock(b: VerifiedBlock): Promise<CarerAlert[]> {
    const fps: { fingerprint: Uint8Array; level: 'low' | 'high'; day: number }[] = [];
    const teks: EndorsedTek[] = [];
    for (const data of b.entries) {
      let e;
      try {
        e = decodeEntry(data);
      } catch {
        continue;
      }
      if (e?.type === 'exposure') fps.push({ fingerprint: e.fingerprint, level: e.risk === 2 ? 'high' : 'low', day: e.day });
      else if (e?.type === 'tek') teks.push({ tek: e.tek, rollingStart: e.rollingStart });
    }
    if ((!fps.length && !teks.length) || !this.#o.store.list().length) return [];
    const now = (this.#o.now ?? hostNow)();
    if (teks.length)
      await this.#o.store.encounters
        .prune(now)
        .catch((e: unknown) => this.#log.warn({ code: (e as { code?: string })?.code }, 'carer: pruning wearable encounters failed'));
    const alerts = [
      ...(fps.length ? matchForWearables(this.#o.store, packFingerprintBlock(fps), now) : []),
      ...matchTeksForWearables(this.#o.store, teks, now),
    ];
    const fresh: CarerAlert[] = [];
    for (const w of this.#o.store.list()) {
      const mine = alerts.filter((a) => a.wearableId === w.wearableId);
      if (!mine.length) continue;
      const u = await this.unit(w.wearableId);
      const before = new Set(u.alerts.delivered());
      await u.alerts.dispatch(mine);
      const after = u.alerts.delivered().filter((k) => !before.has(k));
      for (const a of mine) if (after.includes(alertKey(a))) fresh.push(a);
    }
    for (const a of fresh)
      await this.#o.publishAlert?.(a).catch((e: unknown) => this.#log.warn({ code: (e as { code?: string })?.code }, 'carer: alert publish failed'));
    return fresh;
  }

  counters(): Record<string, number> {
    const encounters = this.#o.store.list().reduce((n, w) => n + this.#o.store.encounters.count(w.wearableId), 0);
    return { wearables: this.#units.size, wearableEncounters: encounters };
  }
}
