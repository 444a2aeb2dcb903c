/**
 * Embedded MQTT broker: aedes in-process on a local TCP port, for development,
 * tests and single-node trials. Production and scale-out use mosquitto
 * (MosquittoRunner / gateway/mosquitto/beepkit.conf).
 *
 * Limits of aedes 1.2.0, by design of this wrapper:
 * - MQTT 3.1 / 3.1.1 only: an MQTT 5 CONNECT is refused (CONNACK return code 1,
 *   "unacceptable protocol version"). Clients use protocolVersion 4.
 * - No shared subscriptions: aedes would treat `$share/g/t` as a literal filter
 *   that never matches, so this broker refuses such subscriptions (SUBACK 0x80)
 *   instead of silently delivering nothing. Scale-out needs mosquitto.
 * - No persistence across restarts (in-memory session store).
 *
 * Auth/ACL semantics match the mosquitto config rendered from the same
 * data (auth.ts): unknown user or wrong password -> CONNACK 4; a publish the
 * ACL denies is acknowledged (QoS 1 PUBACK, as mosquitto does for MQTT 3.1.1)
 * and dropped, never reaching a subscriber; subscriptions are granted and
 * each message is checked against the subscriber's read permission at
 * delivery (authorizeForward), as mosquitto 2.0 does.
 *
 * Hostile clients (limits.ts, guard.ts; README "Threats and limits"): a device
 * connects only with its own client id (`isOwnClientId`; reserved ids never),
 * else CONNACK 2; packets are capped before they are buffered; retained
 * messages only on the device's own status topic, small; connection rate per
 * address; failed logins back off (CONNACK 3 while backing off); a superuser
 * session taken over is logged and counted. Optional TLS listener (TLS 1.2+).
 */
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { BeepkitError } from '@beepkit/protocol';
import { AclChecker, credentialEntries, isOwnClientId, topicMatches, unshare, verifyPassword, type AclPolicy, type Credentials } from './auth.ts';
import { GuardedConnection, type GuardViolation } from './guard.ts';
import { DEFAULT_BROKER_LIMITS, LoginBackoff, type BrokerLimits } from './limits.ts';
import { RateLimiter } from '../ingest/rate.ts';
import { logId, silentLogger, type Logger } from './log.ts';
import { monotonicMs } from './clock.ts';
import { capOfflineQueues, type OfflineCap } from './offline.ts';

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 picks a free one (read `port` after start()). */
  port?: number;
  host?: string;
  /** username -> password hash (auth.ts formats). */
  credentials: Credentials;
  acl: AclPolicy;
  logger?: Logger;
  /** Overrides of DEFAULT_BROKER_LIMITS. */
  limits?: Partial<BrokerLimits>;
  /** Client ids no device may use (the gateway's). */
  reservedClientIds?: readonly string[];
  /** Optional MQTT-over-TLS listener (TLS 1.2 minimum); `ca` + `requestCert` asks for client certificates. */
  tls?: { port?: number; host?: string; cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  /** Clock in ms for the rate limits (default monotonic host time, clock.ts). */
  now?: () => number;
}

export interface EmbeddedBrokerStats {
  connectionsRefused: number;
  publishesDenied: number;
  /** Shared subscriptions, which aedes cannot serve. */
  subscriptionsDenied: number;
  deliveriesDenied: number;
  /** CONNECTs with a client id not the user's own, or reserved (CONNACK 2). */
  clientIdsRefused: number;
  /** Logins refused without a password check while their address backs off (CONNACK 3). */
  loginsThrottled: number;
  /** Connections closed at accept: over the per-address rate or maxConnections. */
  connectionsThrottled: number;
  /** Retained publishes refused (not the own status topic, or too big). */
  retainedRefused: number;
  /** A connected superuser session replaced by a new CONNECT with its client id. */
  superuserTakeovers: number;
  /** Messages not queued for an offline device session past maxOfflineMessages. */
  offlineDropped: number;
  /** Connections closed by the guard, by reason. */
  guard: Record<GuardViolation, number>;
}

type PublishFn = Aedes['publish'];

export class EmbeddedBroker {
  readonly #opts: EmbeddedBrokerOptions;
  readonly #log: Logger;
  readonly #acl: AclChecker;
  readonly #hashes: Map<string, string>;
  readonly #usernames = new WeakMap<Client, string>();
  readonly #denied = new WeakSet<object>();
  readonly #limits: BrokerLimits;
  readonly #now: () => number;
  readonly #connRate: RateLimiter;
  readonly #backoff: LoginBackoff;
  readonly #reserved: Set<string>;
  /** Refusal logs: 20 per kind, then 1/s; the rest counted and reported with the next line (metrics count all). */
  readonly #logRate = new RateLimiter({ burst: 20, perSecond: 1 });
  readonly #suppressed = new Map<string, number>();
  #aedes?: Aedes;
  #offline?: OfflineCap;
  /** Client ids superusers have connected with (their offline queues are never capped). */
  readonly #superIds = new Set<string>();
  #servers: net.Server[] = [];
  #port = 0;
  #tlsPort = 0;
  readonly stats: EmbeddedBrokerStats = {
    connectionsRefused: 0,
    publishesDenied: 0,
    subscriptionsDenied: 0,
    deliveriesDenied: 0,
    clientIdsRefused: 0,
    loginsThrottled: 0,
    connectionsThrottled: 0,
    retainedRefused: 0,
    superuserTakeovers: 0,
    offlineDropped: 0,
    guard: { 'preauth-bytes': 0, 'not-connect': 0, 'packet-size': 0, 'malformed-length': 0, 'send-queue': 0 },
  };

  constructor(opts: EmbeddedBrokerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#acl = new AclChecker(opts.acl);
    this.#hashes = new Map(credentialEntries(opts.credentials));
    this.#limits = { ...DEFAULT_BROKER_LIMITS, ...opts.limits };
    this.#now = opts.now ?? monotonicMs;
    this.#connRate = new RateLimiter({ burst: this.#limits.connectionBurst, perSecond: this.#limits.connectionsPerSecond, maxKeys: 10_000 });
    this.#backoff = new LoginBackoff(this.#limits.loginFailuresFree, this.#limits.loginBackoffMaxMs);
    this.#reserved = new Set(opts.reservedClientIds ?? []);
  }

  /**
   * Replaces the credentials (a reloaded password file): later logins are checked against them, and the
   * connected sessions of users no longer listed (a revoked device) are closed. Returns the sessions closed.
   */
  setCredentials(c: Credentials): number {
    this.#hashes.clear();
    for (const [u, h] of credentialEntries(c)) this.#hashes.set(u, h);
    const clients = Object.values((this.#aedes as unknown as { clients?: Record<string, Client> } | undefined)?.clients ?? {});
    let closed = 0;
    for (const client of clients) {
      const user = this.#usernames.get(client);
      if (user === undefined || this.#hashes.has(user)) continue;
      client.close();
      closed++;
    }
    return closed;
  }

  #warn(fields: Record<string, unknown>, msg: string): void {
    if (!this.#logRate.take(msg, this.#now())) {
      this.#suppressed.set(msg, (this.#suppressed.get(msg) ?? 0) + 1);
      return;
    }
    const suppressed = this.#suppressed.get(msg);
    this.#suppressed.delete(msg);
    this.#log.warn(suppressed ? { ...fields, suppressed } : fields, msg);
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.#port}`;
  }

  /** mqtts:// URL of the TLS listener, when configured. */
  get tlsUrl(): string | undefined {
    return this.#tlsPort ? `mqtts://${this.#opts.tls?.host ?? '127.0.0.1'}:${this.#tlsPort}` : undefined;
  }

  get limits(): Readonly<BrokerLimits> {
    return this.#limits;
  }

  async start(): Promise<void> {
    if (this.#aedes) throw new BeepkitError('E_STATE', 'EmbeddedBroker already started');
    const aedes = await Aedes.createBroker({
      connectTimeout: this.#limits.connectTimeoutMs,
      maxClientsIdLength: 256,
      authenticate: (client, username, password, done) => this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        if (client === null) return done(null); // broker-originated (will of a gone client): already checked
        const user = this.#usernames.get(client);
        if (!this.#acl.canPublish(user, client.id, packet.topic)) {
          this.stats.publishesDenied++;
          this.#denied.add(packet);
          this.#warn({ clientId: logId(client.id), user: logId(user), topic: logId(packet.topic, 128) }, 'publish denied by ACL');
        } else if (packet.retain && !this.#acl.isSuperuser(user) && !this.#retainOk(user!, packet.topic, packet.payload.length)) {
          this.stats.retainedRefused++;
          this.#denied.add(packet);
          this.#warn({ clientId: logId(client.id), topic: logId(packet.topic, 128), bytes: packet.payload.length }, 'retained publish refused');
        }
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        if (unshare(sub.topic).group !== undefined) {
          this.stats.subscriptionsDenied++;
          this.#warn({ clientId: logId(client.id), topic: logId(sub.topic, 128) }, 'shared subscriptions need mosquitto: refused');
          return done(null, null);
        }
        done(null, sub);
      },
      authorizeForward: (client, packet) => {
        if (this.#acl.canRead(this.#usernames.get(client), client.id, packet.topic)) return packet;
        this.stats.deliveriesDenied++;
        return null;
      },
    });
    // Denied publishes are acknowledged like mosquitto does, then dropped here.
    const publish = aedes.publish.bind(aedes) as unknown as (...a: unknown[]) => void;
    const guarded = (packet: object, client: unknown, done?: unknown): void => {
      const cb = (typeof client === 'function' ? client : done) as ((e?: Error) => void) | undefined;
      if (this.#denied.has(packet)) return cb?.();
      publish(packet, client, done);
    };
    aedes.publish = guarded as unknown as PublishFn;
    this.#offline = capOfflineQueues(
      aedes,
      this.#limits.maxOfflineMessages,
      (id) => this.#superIds.has(id),
      () => this.stats.offlineDropped++,
    );
    aedes.on('clientError', (client, err) => this.#log.debug({ clientId: logId(client.id), err: logId(err.message, 200) }, 'client error'));
    this.#aedes = aedes;
    try {
      this.#port = await this.#listen(net.createServer(), this.#opts.port ?? 0, this.#opts.host ?? '127.0.0.1', 'connection');
      const t = this.#opts.tls;
      if (t) {
        const server = tls.createServer({
          cert: t.cert,
          key: t.key,
          ca: t.ca,
          requestCert: t.requestCert ?? false,
          rejectUnauthorized: t.requestCert ?? false,
          minVersion: 'TLSv1.2',
        });
        server.on('tlsClientError', (err) => this.#log.debug({ err: logId(err.message, 200) }, 'TLS handshake failed'));
        this.#tlsPort = await this.#listen(server, t.port ?? 0, t.host ?? this.#opts.host ?? '127.0.0.1', 'secureConnection');
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.#log.info({ port: this.#port, tlsPort: this.#tlsPort || undefined }, 'embedded broker listening');
  }

  async #listen(server: net.Server, port: number, host: string, event: 'connection' | 'secureConnection'): Promise<number> {
    server.maxConnections = this.#limits.maxConnections;
    server.on(event, (socket: net.Socket) => this.#accept(socket));
    server.on('drop', () => this.stats.connectionsThrottled++);
    this.#servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause) => reject(new BeepkitError('E_IO', `embedded broker cannot listen on ${host}:${port}`, { cause })));
      server.listen(port, host, () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  #accept(socket: net.Socket): void {
    const aedes = this.#aedes;
    socket.on('error', () => {});
    if (!aedes || !this.#connRate.take(socket.remoteAddress ?? '?', this.#now())) {
      this.stats.connectionsThrottled++;
      socket.destroy();
      return;
    }
    const conn = new GuardedConnection(socket, this.#limits, this.#now, (why, announced) => {
      this.stats.guard[why]++;
      this.#warn({ reason: why, announced, remote: socket.remoteAddress }, 'connection closed by the broker guard');
    });
    conn.on('error', () => {});
    aedes.handle(conn as unknown as net.Socket);
  }

  /** Devices may retain only on their own status topic, at most maxRetainedBytes. */
  #retainOk(user: string, topic: string, bytes: number): boolean {
    const max = this.#limits.maxRetainedBytes;
    return max > 0 && bytes <= max && topicMatches(`beepkit/v1/dev/${user}/status`, topic);
  }

  async stop(): Promise<void> {
    const servers = this.#servers;
    const aedes = this.#aedes;
    this.#servers = [];
    this.#aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const server of servers) if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const refuse = (returnCode: number, message: string): void => done(Object.assign(new Error(message), { returnCode }) as AuthenticateError, null);
    const conn = client.conn as unknown as GuardedConnection;
    const remote = conn.remoteAddress ?? '?';
    const now = this.#now();
    const wait = this.#backoff.blockedFor(remote, now);
    if (wait > 0) {
      this.stats.loginsThrottled++;
      this.#log.debug({ remote, waitMs: wait }, 'login refused: address backing off after failed logins');
      return refuse(3, 'too many failed logins: try later');
    }
    const hash = username === undefined ? undefined : this.#hashes.get(username);
    if (username === undefined || hash === undefined || password === undefined || !verifyPassword(password, hash)) {
      this.stats.connectionsRefused++;
      this.#backoff.fail(remote, now);
      this.#warn({ clientId: logId(client.id), username: logId(username), remote }, 'connection refused: bad username or password');
      return refuse(4, 'bad username or password');
    }
    const superuser = this.#acl.isSuperuser(username);
    if (!superuser && (this.#reserved.has(client.id) || !isOwnClientId(username, client.id))) {
      this.stats.clientIdsRefused++;
      this.#warn({ clientId: logId(client.id), username: logId(username), remote }, "connection refused: client id is not the device's own");
      return refuse(2, 'client id must be the username (or username:suffix)');
    }
    const previous = (this.#aedes as unknown as { clients?: Record<string, unknown> } | undefined)?.clients?.[client.id];
    if (previous && superuser) {
      this.stats.superuserTakeovers++;
      this.#log.warn({ clientId: logId(client.id), username: logId(username), remote }, 'superuser session taken over by a new connection with its client id');
    }
    this.#usernames.set(client, username);
    if (superuser) this.#superIds.add(client.id);
    this.#offline?.connected(client.id);
    conn.authenticated?.(superuser);
    done(null, true);
  }
}
