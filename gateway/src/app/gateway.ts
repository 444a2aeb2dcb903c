/**
 * The gateway service: keys, ledger, venue registry, ingest, CA, notification
 * feed, MQTT connections (embedded aedes broker when no broker URL is set),
 * health + metrics HTTP. `new Gateway({ config })`, `start()`, `stop()`.
 * stop() is graceful: no new message is taken, in-flight commits finish (and
 * are acknowledged), replies are flushed, then everything closes.
 */
import { decodeNotificationEntry, isNotificationEntry, type NotificationEntry } from '@beepkit/protocol/endorse';
import { VenueRegistry as VenueStates } from '../venues/registry.ts';
import { readFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BeepkitError, fromHex } from '@beepkit/protocol';
import { decodeMessage, gatewaySubscriptions, parseTopic, topics } from '@beepkit/protocol/wire';
import { monotonicMs, type EmbeddedBroker } from '../broker/index.ts';
import { startEmbeddedBroker } from './embedded.ts';
import { GatewayMqtt } from '../mqtt.ts';
import { EmbeddedLedger } from '../ledger/index.ts';
import { silentLogger } from '../broker/log.ts';
import type { ChainName } from '@beepkit/protocol/ledger';
import type { Ledger, Logger } from '../ledger/types.ts';
import { Ingest, codeOf, correlationOf, errorReply } from '../ingest/index.ts';
import { loadOrCreateKeys, type GatewayKeys } from '../ca/keys.ts';
import { VenueRegistry } from '../ca/registry.ts';
import { CertificateAuthority } from '../ca/authority.ts';
import { venueRevocations } from '../ca/revocation.ts';
import { NotificationFeed, type VenueStatusHook } from '../feed/index.ts';
import type { GatewayConfig } from './config.ts';
import { startHttp } from './http.ts';
import { Telemetry } from './telemetry.ts';
import { handleCaRequest, handleVenueRegister } from './handlers.ts';
import { handleDiagnosis, handleNotificationSubmit, handleVenueSignoff, type OpsDeps } from './ops.ts';
import { venueSignoffSigner } from '@beepkit/protocol/endorse';
import { anchorerFor, venueChainFor } from '../anchor/setup.ts';
import type { VenueChainFollower } from '../venues/chain.ts';
import type { Anchorer } from '../anchor/anchorer.ts';
import { connectionClientId, shardSubscriptions } from './shard.ts';

/** Largest reply the gateway publishes: a 1 MiB catch-up response + headroom, under mosquitto's max_packet_size. */
export const MAX_REPLY_BYTES = (1 << 20) + 65_536;

export interface GatewayOptions {
  config: GatewayConfig;
  logger?: Logger;
  /** Clock (ms) for ingest and CA decisions (default Date.now). */
  now: () => number;
  venueStatus?: VenueStatusHook;
  /** Registry reload period (default 2000 ms). */
  registryPollMs?: number;
}

/** An upload batch topic (`beepkit/v1/dev/<id>/up/batch`): the only kind bounded by `broker.maxPending`. */
function isUploadBatch(topic: string): boolean {
  try {
    return parseTopic(topic).kind === 'uplink-batch';
  } catch {
    return false;
  }
}

export class Gateway {
  readonly #o: GatewayOptions;
  readonly #log: Logger;
  keys!: GatewayKeys;
  ledger!: EmbeddedLedger;
  registry!: VenueRegistry;
  /** Venue infection states, from the notification chain (answers VenueStatusQuery). */
  venueStates!: VenueStates;
  ingest!: Ingest;
  ca!: CertificateAuthority;
  feed!: NotificationFeed;
  /** Follows the consortium chain's VenueRegistry into `venueStates` (config `venues.chain`). */
  venueChain?: VenueChainFollower;
  /** Anchors the ledger's tree heads on an EVM chain (config `anchor:`). */
  anchorer?: Anchorer;
  broker?: EmbeddedBroker;
  readonly clients: GatewayMqtt[] = [];
  readonly telemetry: Telemetry;
  #http?: { port: number; close(): Promise<void> };
  #poll?: NodeJS.Timeout;
  /** The embedded broker's password-file reload (polled with the venue registry). */
  #reloadCredentials: () => boolean = () => false;
  #ops!: OpsDeps;
  #stopping = false;
  #started = false;
  #inflight = 0;
  #drained?: () => void;
  readonly #replies = new Set<Promise<void>>();

  constructor(opts: GatewayOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.telemetry = new Telemetry(() => this.clients.filter((c) => c.state === 'connected').length);
  }

  get httpPort(): number | undefined {
    return this.#http?.port;
  }

  /** The URL devices connect to (the embedded broker's, or the configured one). */
  get brokerUrl(): string {
    return this.broker?.url ?? this.#o.config.broker.url!;
  }

  async start(): Promise<void> {
    if (this.#started) throw new BeepkitError('E_STATE', 'gateway already started');
    this.#started = true;
    const cfg = this.#o.config;
    const now = this.#o.now;
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    this.keys = loadOrCreateKeys(cfg.dataDir);
    this.ledger = new EmbeddedLedger({ dir: join(cfg.dataDir, 'ledger'), signer: this.keys.gateway, logger: this.#log, now });
    await this.ledger.open();
    for (const chain of ['tracing', 'notification'] as ChainName[]) this.telemetry.heights[chain] = (await this.ledger.sth(chain))?.blockHeight ?? -1;
    this.anchorer = anchorerFor({
      anchor: cfg.anchor,
      dataDir: cfg.dataDir,
      ledger: this.ledger,
      ledgerKey: this.keys.gateway.publicKey,
      registry: this.telemetry.registry,
      logger: this.#log,
    });
    await this.anchorer?.start();
    this.registry = new VenueRegistry(join(cfg.dataDir, 'venues.json'), now).load();
    const timed: Pick<Ledger, 'append' | 'getByKey'> = {
      append: async (chain, entries) => {
        const t0 = process.hrtime.bigint();
        const r = await this.ledger.append(chain, entries);
        this.telemetry.commitLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        for (const x of r) {
          if ('error' in x) continue;
          this.telemetry.heights[chain] = Math.max(this.telemetry.heights[chain], x.blockHeight);
          this.anchorer?.noteAppend(chain, x.sth);
        }
        return r;
      },
      getByKey: (chain, key) => this.ledger.getByKey(chain, key),
    };
    const i = cfg.ingest;
    this.ingest = new Ingest({
      ledger: timed,
      caPublicKey: this.keys.caPublicKey,
      caSigner: this.keys.ca,
      now,
      maxSkewSec: i.maxSkewSec,
      intervalSeconds: i.intervalSeconds,
      rate: { burst: i.rateBurst, perSecond: i.ratePerSecond },
      ...(i.verifyWorkers !== undefined ? { verifyWorkers: i.verifyWorkers } : {}),
      logger: this.#log,
    });
    const c = cfg.ca;
    this.ca = new CertificateAuthority({
      ca: this.keys.ca,
      solverPublicKey: this.keys.solverPublicKey,
      solverKeyId: this.keys.solverKeyId,
      venues: this.registry,
      now,
      logger: this.#log,
      onIssued: (cert) => this.ingest.rememberIssued(cert),
      policy: { ...c, maxSkewMs: i.maxSkewSec * 1000, perPseudonym: { burst: c.requestsPerPseudonymDay, perSecond: c.requestsPerPseudonymDay / 86_400 } },
    });
    // Venue infection states (empty/infected/clean) follow the venue-state records on the
    // notification chain: replayed at start, then kept current as entries are published.
    // Its changes (a diagnosed visit, a sign-off, an expiry) go on the notification chain.
    this.venueStates = new VenueStates({ now, sink: { publish: async (e) => void (await this.publishNotification(e)) } });
    this.#registerVenueStates();
    for (let h = 0; ;) {
      const blocks = await this.ledger.blocks('notification', h, 256);
      if (blocks.length === 0) break;
      for (const b of blocks) this.#trackVenueStates(b.entries.map((e) => e.data));
      h = blocks[blocks.length - 1].header.height + 1;
    }
    // then the consortium chain's VenueRegistry, from genesis (never awaited: an unreachable node does not stop the start)
    this.venueChain = venueChainFor({ chain: cfg.venues?.chain, states: this.venueStates, registry: this.telemetry.registry, logger: this.#log });
    this.venueChain?.start();
    this.feed = new NotificationFeed({
      ledger: {
        append: timed.append,
        blocks: (ch, h, m) => this.ledger.blocks(ch, h, m),
        tail: (ch) => this.ledger.tail(ch),
        sth: (ch) => this.ledger.sth(ch),
      },
      publish: (topic, payload) => this.clients[0].publish(topic, payload, { qos: 1 }).then(() => this.telemetry.broadcasts.inc()),
      maxCatchupBlocks: cfg.feed.maxCatchupBlocks,
      venueStatus: this.#o.venueStatus ?? this.venueStates.statusHook(),
      logger: this.#log,
    });
    await this.feed.start();
    this.#ops = {
      ledger: timed,
      publishNotification: (e) => this.publishNotification(e),
      venueStates: this.venueStates,
      caPublicKey: this.keys.caPublicKey,
      now,
      publishers: cfg.feed.publishers,
      logger: this.#log,
    };
    await this.#connect(cfg);
    if (cfg.shard?.role !== 'ingest') await this.#publishRevocations(); // an ingest shard has no notification chain of its own
    this.#poll = setInterval(() => {
      try {
        if (this.registry.reloadIfChanged()) {
          this.#registerVenueStates();
          void this.#publishRevocations();
        }
        void this.venueStates.tick().catch((e: unknown) => this.#log.warn({ code: codeOf(e) }, 'venue state expiry not published'));
      } catch (e) {
        this.#log.warn({ code: codeOf(e) }, 'venue registry reload failed');
      }
      try {
        this.#reloadCredentials();
      } catch (e) {
        this.#log.warn({ code: codeOf(e) }, 'broker password file reload failed (the previous credentials stay)');
      }
    }, this.#o.registryPollMs ?? 2000);
    this.#poll.unref();
    this.#http = await startHttp(cfg.http.host, cfg.http.port, {
      health: () => {
        const up = this.clients.filter((x) => x.state === 'connected').length;
        return { ok: !this.#stopping && up === this.clients.length, detail: { mqtt: `${up}/${this.clients.length}`, inflight: this.#inflight } };
      },
      metrics: async () => this.telemetry.registry.render(),
      status: () => ({
        shard: cfg.shard ? { ...cfg.shard, ledgerKey: Buffer.from(this.keys.gateway.publicKey).toString('hex') } : null,
        heights: this.telemetry.heights,
        inflight: this.#inflight,
        anchor: this.anchorer?.status() ?? null,
        venueChain: this.venueChain?.status() ?? null,
      }),
    });
    this.#log.info({ broker: this.broker ? 'embedded' : 'external', connections: this.clients.length, http: this.#http.port }, 'gateway started');
  }

  async #connect(cfg: GatewayConfig): Promise<void> {
    const b = cfg.broker;
    let password = b.password ?? (b.passwordFile ? readFileSync(b.passwordFile, 'utf8').trim() : undefined);
    let url = b.url;
    if (!url) {
      password ??= randomBytes(18).toString('base64url');
      const started = await startEmbeddedBroker(cfg, password, this.#log, monotonicMs);
      this.broker = started.broker;
      this.#reloadCredentials = started.reloadIfChanged;
      this.telemetry.watchBroker(this.broker.stats);
      url = this.broker.url;
    }
    const ca = b.caFile ? readFileSync(b.caFile) : undefined;
    for (let k = 0; k < b.connections; k++) {
      const client = new GatewayMqtt({
        url,
        clientId: connectionClientId(b, cfg.shard, k),
        username: b.username,
        password,
        ca,
        rejectUnauthorized: b.rejectUnauthorized,
        clean: false,
        maxPending: b.maxPending,
        bounded: isUploadBatch, // other kinds are few, and some wait for the feed's PUBACK on this connection
        logger: this.#log,
      });
      client.on('error', () => {}); // logged by GatewayMqtt; health shows the state
      this.telemetry.watchConnection(client, this.#log, monotonicMs);
      client.onMessage((topic, payload, ack) => this.#route(client, topic, payload, ack));
      this.clients.push(client);
    }
    await Promise.all(
      this.clients.map(async (client) => {
        await client.start();
        const filters = cfg.shard ? shardSubscriptions(b.shareGroup, cfg.shard) : gatewaySubscriptions(b.connections > 1 ? b.shareGroup : undefined);
        for (const f of filters) await client.subscribe(f, 1);
      }),
    );
  }

  async #publishRevocations(): Promise<void> {
    const entries = venueRevocations(this.registry.list());
    if (entries.length === 0) return;
    try {
      await this.feed.publishNotification(entries);
    } catch (e) {
      this.#log.warn({ code: codeOf(e) }, 'revocations not published');
    }
  }

  /** Every registered venue into the state machine: its region and its sign-off key (derived from the venue key). */
  #registerVenueStates(): void {
    for (const v of this.registry.list()) {
      const k = this.registry.lookup(fromHex(v.id, 'venue id'));
      if (k && !v.revoked) this.venueStates.register(v.id, { region: v.region.join('/'), signoffKey: venueSignoffSigner(k.key).publicKey });
    }
  }

  #trackVenueStates(entries: Uint8Array[]): void {
    const states: NotificationEntry[] = [];
    for (const d of entries) {
      if (!isNotificationEntry(d)) continue;
      try {
        const e = decodeNotificationEntry(d);
        if (e.type === 'venue-state') states.push(e);
      } catch (err) {
        this.#log.warn({ code: codeOf(err) }, 'undecodable notification entry ignored for venue state');
      }
    }
    if (states.length) this.venueStates.replay(states);
  }

  /** Appends to the notification chain and broadcasts the block (solver, diagnostician). */
  publishNotification(entries: Uint8Array[]): ReturnType<NotificationFeed['publishNotification']> {
    return this.feed.publishNotification(entries).then((r) => {
      this.#trackVenueStates(entries);
      return r;
    });
  }

  #reply(client: GatewayMqtt, deviceId: string, payload: Uint8Array): void {
    const p = client.publish(topics.reply(deviceId), payload, { qos: 1 }).catch((e: unknown) => this.#log.warn({ code: codeOf(e) }, 'reply not delivered'));
    this.#replies.add(p);
    void p.finally(() => this.#replies.delete(p));
  }

  #route(client: GatewayMqtt, topic: string, payload: Buffer, ack: (ok: boolean) => void): void {
    if (this.#stopping) return; // not acknowledged: the broker redelivers after restart
    let kind: string;
    let deviceId: string;
    try {
      const t = parseTopic(topic);
      kind = t.kind;
      deviceId = t.deviceId ?? '';
    } catch {
      this.telemetry.requests.inc({ kind: 'unknown' });
      ack(true);
      return;
    }
    this.telemetry.requests.inc({ kind });
    if (kind === 'status' || !deviceId) {
      ack(true); // device status is not stored
      return;
    }
    this.#inflight++;
    void this.#handle(kind, deviceId, payload)
      .then(
        ({ ok, reply }) => {
          ack(ok);
          if (ok && reply) this.#reply(client, deviceId, reply);
        },
        (e: unknown) => {
          this.#log.error({ code: codeOf(e) }, 'handler failed');
          ack(true);
          this.#reply(client, deviceId, errorReply(correlationOf(payload), 'E_INTERNAL', 'internal error'));
        },
      )
      .finally(() => {
        if (--this.#inflight === 0) this.#drained?.();
      });
  }

  async #handle(kind: string, deviceId: string, payload: Uint8Array): Promise<{ ok: boolean; reply?: Uint8Array }> {
    switch (kind) {
      case 'uplink-batch': {
        const r = await this.ingest.handle(payload);
        this.telemetry.batches.inc({ code: r.code });
        if (r.code === 'OK') this.telemetry.records.inc({}, r.records);
        else if (r.ack && r.code !== 'DUPLICATE') this.telemetry.rejects.inc({ code: r.code });
        return { ok: r.ack, reply: r.reply };
      }
      case 'ca-request': {
        const { reply, code } = handleCaRequest(this.ca, payload);
        if (code === 'OK') this.telemetry.caIssued.inc();
        else this.telemetry.caRefused.inc({ code });
        return { ok: true, reply };
      }
      case 'diagnosis-submit':
        return { ok: true, reply: await handleDiagnosis(this.#ops, payload) };
      case 'venue-signoff':
        return { ok: true, reply: await handleVenueSignoff(this.#ops, payload) };
      case 'notification-submit':
        return { ok: true, reply: await handleNotificationSubmit(this.#ops, deviceId, payload) };
      case 'venue-register':
        return { ok: true, reply: handleVenueRegister(this.registry, this.#o.config.ca.trustedBeacons.includes(deviceId), payload) };
      default:
        return { ok: true, reply: await this.#query(payload) };
    }
  }

  async #query(payload: Uint8Array): Promise<Uint8Array> {
    try {
      const m = decodeMessage(payload);
      if (m.type === 'catchup-request') {
        // a reply over the brokers' packet cap would get the gateway itself disconnected (mosquitto max_packet_size 2 MiB)
        const r = await this.feed.catchup(m);
        if (r.length > MAX_REPLY_BYTES)
          throw new BeepkitError('E_RANGE', `catch-up response of ${r.length} B exceeds ${MAX_REPLY_BYTES} B (one block too large)`);
        return r;
      }
      if (m.type === 'venue-status-query') return this.feed.venueStatus(m.correlationId, m.venueId);
      throw new BeepkitError('E_TYPE', `unexpected ${m.type} on this topic`);
    } catch (e) {
      return errorReply(correlationOf(payload), codeOf(e), (e as Error).message);
    }
  }

  async stop(): Promise<void> {
    if (!this.#started || this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#poll);
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    await Promise.race([Promise.allSettled([...this.#replies]), new Promise((r) => setTimeout(r, 5000).unref())]);
    await Promise.allSettled(this.clients.map((c) => c.stop()));
    await this.broker?.stop();
    await this.#http?.close();
    await this.ingest?.stop();
    await this.anchorer?.stop(this.#o.config.anchor?.flushOnStopMs ?? 0);
    await this.venueChain?.stop();
    await this.ledger?.close();
    this.#log.info({}, 'gateway stopped');
  }
}
