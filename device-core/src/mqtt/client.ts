/**
 * The agent's MQTT client (its connection is made by connect.ts, the one file importing mqtt at run time).
 *
 * MQTT 3.1.1, persistent session (clean: false, client id = username = the
 * device topic id), QoS 1 both ways, our own reconnect with jittered
 * exponential backoff, last will = the retained offline DeviceStatus, and a
 * retained online DeviceStatus after every connect.
 *
 * Inbound messages are handed to the handler one at a time and PUBACKed
 * (MQTT.js `handleMessage` callback) only after the handler's promise
 * settles, so a message is acknowledged after it was processed.
 * Replies on `dev/<id>/reply` are decoded and routed by correlation id to
 * `request()` callers; other replies are emitted as 'reply'.
 */
import { StateEmitter, endGracefully } from '../infra/lifecycle.ts';
import type { IClientOptions, IPublishPacket, MqttClient, Packet } from 'mqtt';
import { connectMqtt } from './connect.ts';
import { BeepkitError, toHex } from '@beepkit/protocol';
import { CORRELATION_ID_BYTES, decodeMessage, encodeMessage, offlineWill, topics, type UplinkKind, type WireMessage } from '@beepkit/protocol/wire';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { MQTT_RECONNECT_BACKOFF, RetryTimer, type BackoffOptions } from '../infra/backoff.ts';

export type AgentMqttState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';
export type TopicHandler = (topic: string, payload: Uint8Array) => void | Promise<void>;

export interface AgentMqttOptions {
  url: string;
  /** Device topic id ([a-z0-9-]{8,64}): MQTT username (unless `username`) and client id. */
  deviceId: string;
  /** MQTT username (config broker.username; default the device id; the broker ACL binds the device topics to it). */
  username?: string;
  password?: string;
  /** Client id (default: the device id, so the persistent session survives restarts). */
  clientId?: string;
  agentVersion?: string;
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  keepaliveSec?: number;
  connectTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Random source in [0,1) for the jitter (seed it in tests). */
  random?: () => number;
  /** Counters published in the online DeviceStatus. */
  counters?: () => Record<string, number>;
  logger?: Logger;
}

interface Waiter {
  resolve(m: WireMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class AgentMqtt extends StateEmitter<AgentMqttState> {
  readonly #o: AgentMqttOptions;
  readonly #log: Logger;
  readonly #retry: RetryTimer;
  readonly #filters = new Map<string, TopicHandler>();
  readonly #waiters = new Map<string, Waiter>();
  #client?: MqttClient;
  #sessionPresent = false;
  readonly counters = { connects: 0, disconnects: 0, received: 0, replies: 0, unmatchedReplies: 0, badReplies: 0, published: 0, handlerErrors: 0 };

  constructor(opts: AgentMqttOptions) {
    super('idle', 'AgentMqtt');
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#retry = new RetryTimer(opts.backoff, MQTT_RECONNECT_BACKOFF, opts.random ?? Math.random);
    this.#filters.set(topics.reply(opts.deviceId), (_t, p) => this.#onReply(p));
  }

  /** Whether the broker resumed our stored session at the last connect. */
  get sessionPresent(): boolean {
    return this.#sessionPresent;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Starts connecting (in the background: the broker may be down); see whenConnected(). */
  start(): void {
    if (this.#client) throw new BeepkitError('E_STATE', 'AgentMqtt already started');
    const o = this.#o;
    const will = offlineWill(o.deviceId, o.agentVersion ?? '0');
    const options: IClientOptions = {
      protocolVersion: 4,
      clientId: o.clientId ?? o.deviceId,
      username: o.username ?? o.deviceId,
      password: o.password,
      clean: false,
      keepalive: o.keepaliveSec ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      ca: o.ca,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      // mqtt-packet otherwise pre-builds, on the first packet written, one 2-byte Buffer for every packet id
      // (65 536 Buffers kept for the life of the process: ~7 MB of a trial agent's 27 MB live V8 heap,
      // agent/README "Memory"); without the cache each packet id is written from a fresh 2-byte Buffer
      writeCache: false,
    };
    this.setState('connecting');
    const client = connectMqtt(o.url, options);
    this.#client = client;
    client.handleMessage = (packet: Packet, cb: (err?: Error) => void): void => {
      void this.#dispatch(packet as IPublishPacket).finally(() => cb());
    };
    client.on('connect', (connack) => void this.#onConnect(connack.sessionPresent));
    client.on('close', () => this.#onClose());
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'mqtt: error'));
  }

  /** Resolves at the next (or current) connection; rejects with E_STOPPED on stop(). */
  whenConnected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    if (this.state === 'stopped') return Promise.reject(new BeepkitError('E_STOPPED', 'mqtt stopped'));
    return new Promise((resolve, reject) => {
      const on = (s: AgentMqttState): void => {
        if (s !== 'connected' && s !== 'stopped') return;
        this.off('state', on);
        if (s === 'connected') resolve();
        else reject(new BeepkitError('E_STOPPED', 'mqtt stopped'));
      };
      this.on('state', on);
    });
  }

  /**
   * Routes messages on `filter` (an exact topic) to `handler`; subscribed on every new session. Resolves once
   * subscribed when connected; otherwise the connect in progress (or the next) subscribes it before 'connected'.
   */
  async subscribe(topic: string, handler: TopicHandler): Promise<void> {
    this.#filters.set(topic, handler);
    if (this.connected) await this.#subscribeAll([topic]);
  }

  /** Publishes at QoS 1; resolves on PUBACK (MQTT.js keeps it queued across a reconnect). */
  publish(topic: string, payload: Uint8Array, retain = false): Promise<void> {
    const client = this.requireStarted(this.#client);
    this.counters.published++;
    return new Promise((resolve, reject) => {
      client.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1, retain }, (err) => {
        if (err) reject(new BeepkitError('E_IO', `publish to ${topic} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  /**
   * Sends `m` on the device's uplink topic `kind` and resolves with the reply
   * carrying the same correlation id (E_TIMEOUT after `timeoutMs`).
   */
  request(kind: UplinkKind, m: WireMessage, timeoutMs = 30_000): Promise<WireMessage> {
    const key = toHex(m.correlationId);
    if (this.#waiters.has(key)) return Promise.reject(new BeepkitError('E_STATE', `a request with correlation id ${key} is in flight`));
    const reply = new Promise<WireMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new BeepkitError('E_TIMEOUT', `no reply to ${m.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(key, { resolve, reject, timer });
    });
    this.publish(topics.uplink(kind, this.#o.deviceId), encodeMessage(m)).catch((e: unknown) => {
      const w = this.#waiters.get(key);
      if (!w) return;
      this.#waiters.delete(key);
      clearTimeout(w.timer);
      w.reject(e as Error);
    });
    return reply;
  }

  async stop(): Promise<void> {
    const client = this.#client;
    if (!client || this.state === 'stopped') return;
    this.setState('stopped');
    this.#retry.cancel();
    await endGracefully(client, 2000);
    const err = new BeepkitError('E_STOPPED', 'mqtt stopped');
    for (const w of this.#waiters.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiters.clear();
  }

  async #onConnect(sessionPresent: boolean): Promise<void> {
    this.#retry.reset();
    this.counters.connects++;
    try {
      // every connect: a broker that lost our session (restart without persistence) needs them again,
      // and re-subscribing a stored subscription keeps its queued messages (MQTT 3.1.1 §3.8.4)
      this.#sessionPresent = sessionPresent;
      // a subscribe() that arrives while these SUBSCRIBEs are in flight (state still 'connecting') is not sent by
      // subscribe() itself: take it here, until no filter is left, before the state turns 'connected' (a follower
      // started during a connect on a loaded machine otherwise never received the notification feed)
      for (const sent = new Set<string>(); ;) {
        const todo = [...this.#filters.keys()].filter((f) => !sent.has(f));
        if (!todo.length) break;
        await this.#subscribeAll(todo);
        for (const f of todo) sent.add(f);
      }
      const status = encodeMessage({
        type: 'device-status',
        correlationId: new Uint8Array(CORRELATION_ID_BYTES),
        state: 'online',
        agentVersion: this.#o.agentVersion ?? '0',
        counters: this.#o.counters?.() ?? {},
      });
      void this.publish(topics.status(this.#o.deviceId), status, true).catch(() => {});
    } catch (e) {
      this.#log.warn({ err: (e as Error).message }, 'mqtt: subscribe after connect failed');
      this.#client?.stream?.destroy();
      return;
    }
    this.setState('connected');
  }

  #subscribeAll(filters: string[]): Promise<void> {
    const client = this.requireStarted(this.#client);
    return new Promise((resolve, reject) => {
      client.subscribe(filters, { qos: 1 }, (err, granted) => {
        if (err) return reject(new BeepkitError('E_IO', `subscribe failed: ${err.message}`, { cause: err }));
        const refused = granted?.find((g) => (g.qos & 0x80) !== 0);
        if (refused) return reject(new BeepkitError('E_DENIED', `subscription to ${refused.topic} refused by the broker`));
        resolve();
      });
    });
  }

  async #dispatch(packet: IPublishPacket): Promise<void> {
    this.counters.received++;
    const handler = this.#filters.get(packet.topic);
    if (!handler) return;
    const payload = Buffer.isBuffer(packet.payload) ? new Uint8Array(packet.payload) : new Uint8Array(Buffer.from(packet.payload));
    try {
      await handler(packet.topic, payload);
    } catch (e) {
      this.counters.handlerErrors++;
      this.#log.warn({ topic: packet.topic, code: (e as { code?: string }).code }, 'mqtt: handler failed');
    }
  }

  #onReply(payload: Uint8Array): void {
    let m: WireMessage;
    try {
      m = decodeMessage(payload);
    } catch (e) {
      this.counters.badReplies++;
      this.#log.warn({ code: (e as { code?: string }).code }, 'mqtt: undecodable reply dropped');
      return;
    }
    this.counters.replies++;
    const key = toHex(m.correlationId);
    const w = this.#waiters.get(key);
    if (w) {
      this.#waiters.delete(key);
      clearTimeout(w.timer);
      w.resolve(m);
      return;
    }
    this.counters.unmatchedReplies++;
    this.emit('reply', m);
  }

  #onClose(): void {
    if (this.state === 'connected') this.counters.disconnects++;
    if (this.state === 'stopped') return;
    this.setState('reconnecting');
    this.#retry.schedule(() => {
      if (this.state === 'stopped' || !this.#client) return;
      this.setState('connecting');
      this.#client.reconnect();
    });
  }
}
