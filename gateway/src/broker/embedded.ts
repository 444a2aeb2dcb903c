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
 */
import net from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { BeepkitError } from '@beepkit/protocol';
import { AclChecker, credentialEntries, unshare, verifyPassword, type AclPolicy, type Credentials } from './auth.ts';
import { silentLogger, type Logger } from './log.ts';

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 picks a free one (read `port` after start()). */
  port?: number;
  host?: string;
  /** username -> password hash (auth.ts formats). */
  credentials: Credentials;
  acl: AclPolicy;
  logger?: Logger;
}

export interface EmbeddedBrokerStats {
  connectionsRefused: number;
  publishesDenied: number;
  /** Shared subscriptions, which aedes cannot serve. */
  subscriptionsDenied: number;
  deliveriesDenied: number;
}

type PublishFn = Aedes['publish'];

export class EmbeddedBroker {
  readonly #opts: EmbeddedBrokerOptions;
  readonly #log: Logger;
  readonly #acl: AclChecker;
  readonly #hashes: Map<string, string>;
  readonly #usernames = new WeakMap<Client, string>();
  readonly #denied = new WeakSet<object>();
  #aedes?: Aedes;
  #server?: net.Server;
  #port = 0;
  readonly stats: EmbeddedBrokerStats = { connectionsRefused: 0, publishesDenied: 0, subscriptionsDenied: 0, deliveriesDenied: 0 };

  constructor(opts: EmbeddedBrokerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#acl = new AclChecker(opts.acl);
    this.#hashes = new Map(credentialEntries(opts.credentials));
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    if (this.#aedes) throw new BeepkitError('E_STATE', 'EmbeddedBroker already started');
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => {
        if (client === null) return done(null); // broker-originated (will of a gone client): already checked
        const user = this.#usernames.get(client);
        if (!this.#acl.canPublish(user, client.id, packet.topic)) {
          this.stats.publishesDenied++;
          this.#denied.add(packet);
          this.#log.warn({ clientId: client.id, user, topic: packet.topic }, 'publish denied by ACL');
        }
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        if (unshare(sub.topic).group !== undefined) {
          this.stats.subscriptionsDenied++;
          this.#log.warn({ clientId: client.id, topic: sub.topic }, 'shared subscriptions need mosquitto: refused');
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
    aedes.on('clientError', (client, err) => this.#log.debug({ clientId: client.id, err: err.message }, 'client error'));
    this.#aedes = aedes;
    const server = net.createServer((socket) => aedes.handle(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause) => reject(new BeepkitError('E_IO', `embedded broker cannot listen on ${this.#opts.port ?? 0}`, { cause })));
      server.listen(this.#opts.port ?? 0, this.#opts.host ?? '127.0.0.1', () => resolve());
    }).catch(async (e: unknown) => {
      await this.stop();
      throw e;
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#log.info({ port: this.#port }, 'embedded broker listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = undefined;
    this.#aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const hash = username === undefined ? undefined : this.#hashes.get(username);
    if (username === undefined || hash === undefined || password === undefined || !verifyPassword(password, hash)) {
      this.stats.connectionsRefused++;
      this.#log.warn({ clientId: client.id, username }, 'connection refused: bad username or password');
      const err = Object.assign(new Error('bad username or password'), { returnCode: 4 }) as AuthenticateError;
      return done(err, null);
    }
    this.#usernames.set(client, username);
    done(null, true);
  }
}
