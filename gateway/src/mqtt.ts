/**
 * The gateway's one MQTT client module (the only gateway file importing 'mqtt').
 *
 * MQTT 3.1.1 (protocolVersion 4) everywhere: aedes refuses MQTT 5.
 *
 * Deferred acknowledgement. MQTT.js 5.16 has a `customHandleAcks` option but
 * honours it ONLY when protocolVersion is 5 (client.js replaces it by an
 * immediate ack otherwise). For 3.1.1 we override the documented
 * `handleMessage(packet, callback)` hook instead: for QoS 1, MQTT.js sends the
 * PUBACK only when `callback` runs, so the PUBACK goes out when the handler
 * calls `ack(true)`, i.e. after the ledger append is durable. MQTT.js handles
 * inbound packets one at a time and would deliver the next message only after
 * the current one is acked, which caps a connection at one message per
 * durable commit. So acks are pipelined: MQTT.js is let go on at once, the
 * PUBACK it wants to send is held back (intercepted in `_sendPacket`) and
 * released when the handler acks; held PUBACKs go out in the order the
 * PUBLISHes arrived (MQTT 3.1.1 §4.6), so a later message acked first waits
 * for the earlier ones.
 * The pipeline is bounded: at most `maxPending` messages are with the handler
 * and not yet acked; past that, MQTT.js is not let go on until an ack frees a
 * place, so it stops reading the socket and the rest wait in the broker
 * (TCP backpressure), not in this process. Without the bound a broker pushing
 * its whole inflight window (mosquitto 1000 per connection, aedes its whole
 * queue after a reconnect) kept thousands of messages in the heap for seconds:
 * old enough to be promoted, so every young-generation GC copied them and the
 * old generation filled with them.
 * `ack(false)` (not durable) drops the connection without a PUBACK; the broker
 * redelivers the message to the next connection of this persistent session.
 * An ack arriving after its connection is gone is ignored (the broker will
 * redeliver; the ledger is idempotent).
 *
 * Outbound: `publish` resolves on PUBACK. At most `maxInflight` publishes are
 * outstanding (MQTT.js would silently drop messages past 65 535 in flight);
 * further calls wait for a slot.
 */
import { StateEmitter, endGracefully } from '@beepkit/device-core/infra/lifecycle';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { BeepkitError } from '@beepkit/protocol';
import { silentLogger, type Logger } from './broker/log.ts';
import { MQTT_RECONNECT_BACKOFF, RetryTimer, type BackoffOptions } from '@beepkit/device-core/infra/backoff';

export type MqttState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';
export type QoS = 0 | 1;
export type InboundHandler = (topic: string, payload: Buffer, ack: (ok: boolean) => void) => void;

interface PendingAck {
  messageId: number;
  ok: boolean;
  send?: () => void;
}

export interface GatewayMqttOptions {
  url: string;
  clientId: string;
  /** 4 = MQTT 3.1.1 (default; aedes refuses 5). */
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  /** For mqtts: CA (PEM), and client certificate/key if the broker wants them. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
  /** false (default) = persistent session: queued and un-acked messages survive a disconnect. */
  clean?: boolean;
  keepaliveSec?: number;
  connectTimeoutMs?: number;
  /** start() rejects if no connection is made within this time (default 30 s). */
  startTimeoutMs?: number;
  /** Jittered exponential reconnect backoff. */
  backoff?: Partial<BackoffOptions>;
  maxInflight?: number;
  /** Inbound QoS 1 messages with the handler and not yet acked, at most (default 64); more wait in the broker. */
  maxPending?: number;
  /**
   * Which inbound topics count against `maxPending` (default: all). While the window is full no packet is read,
   * PUBACKs of this client's own publishes included: a handler that waits for one must not count.
   */
  bounded?: (topic: string) => boolean;
  /** Random source in [0,1) for the jitter (inject a seeded one in tests). */
  random?: () => number;
  logger?: Logger;
}

export interface MqttCounters {
  connects: number;
  disconnects: number;
  reconnectAttempts: number;
  received: number;
  acked: number;
  nacked: number;
  staleAcks: number;
  /** Times reading stopped because `maxPending` messages were with the handler. */
  paused: number;
  published: number;
  publishAcked: number;
  publishFailed: number;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

export class GatewayMqtt extends StateEmitter<MqttState> {
  readonly #o: GatewayMqttOptions;
  readonly #log: Logger;
  readonly #retry: RetryTimer;
  #client?: MqttClient;
  #generation = 0;
  #handler?: InboundHandler;
  #held?: { packet: IPublishPacket; cb: (err?: Error) => void };
  #ackQueue: PendingAck[] = [];
  /** Slots whose PUBACK MQTT.js has not produced yet, by message id (first one per id). */
  readonly #unsent = new Map<number, PendingAck>();
  #inflight = 0;
  /** Inbound messages with the handler, not yet acked (this connection's generation). */
  #handling = 0;
  /** MQTT.js's go-on callback, kept while `#handling` is at `maxPending`. */
  #parked?: (err?: Error) => void;
  readonly #slotWaiters: Waiter[] = [];
  readonly #pending = new Set<Waiter>();
  #sessionPresent = false;
  readonly counters: MqttCounters = {
    connects: 0,
    disconnects: 0,
    reconnectAttempts: 0,
    received: 0,
    acked: 0,
    nacked: 0,
    staleAcks: 0,
    paused: 0,
    published: 0,
    publishAcked: 0,
    publishFailed: 0,
  };

  constructor(opts: GatewayMqttOptions) {
    super('idle', 'GatewayMqtt');
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#retry = new RetryTimer(opts.backoff, MQTT_RECONNECT_BACKOFF, opts.random ?? Math.random);
  }

  /** Inbound messages with the handler and not yet acked. */
  get handling(): number {
    return this.#handling;
  }

  /** Whether the broker resumed a stored session on the last connect. */
  get sessionPresent(): boolean {
    return this.#sessionPresent;
  }

  /** Sets the inbound handler; a message held back for lack of one is delivered now. */
  onMessage(handler: InboundHandler): void {
    this.#handler = handler;
    const held = this.#held;
    this.#held = undefined;
    if (held) this.#deliver(held.packet, held.cb);
  }

  start(): Promise<void> {
    if (this.#client) throw new BeepkitError('E_STATE', 'GatewayMqtt already started');
    const o = this.#o;
    const options: IClientOptions = {
      protocolVersion: o.protocolVersion ?? 4,
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      clean: o.clean ?? false,
      keepalive: o.keepaliveSec ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0, // we reconnect ourselves, with jitter
      resubscribe: true,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
    };
    this.setState('connecting');
    const client = connect(o.url, options);
    this.#client = client;
    client.handleMessage = (packet: Packet, cb: (err?: Error) => void) => this.#onPublish(packet as IPublishPacket, cb);
    this.#interceptPubacks(client);
    client.on('connect', (connack) => {
      this.#generation++;
      this.#retry.reset();
      this.#sessionPresent = connack.sessionPresent;
      this.counters.connects++;
      this.setState('connected');
    });
    client.on('close', () => this.#onClose());
    client.on('error', (err) => {
      this.#log.warn({ err: err.message, code: (err as { code?: unknown }).code }, 'mqtt error');
      this.emit('error', err);
    });
    return new Promise<void>((resolve, reject) => {
      const startTimer = setTimeout(
        () => fail(new BeepkitError('E_IO', `no MQTT connection to ${o.url} within ${o.startTimeoutMs ?? 30_000} ms`)),
        o.startTimeoutMs ?? 30_000,
      );
      const done = (): void => {
        clearTimeout(startTimer);
        client.removeListener('connect', onConnect);
        client.removeListener('error', onError);
        this.removeListener('state', onState);
      };
      const fail = (e: Error): void => {
        done();
        void this.stop().finally(() => reject(e));
      };
      const onConnect = (): void => {
        done();
        resolve();
      };
      const onError = (err: Error & { code?: unknown }): void => {
        // CONNACK 4 (bad username or password) / 5 (not authorised) are not transient.
        if (err.code === 4 || err.code === 5) fail(new BeepkitError('E_AUTH', `MQTT connection refused: ${err.message}`, { cause: err }));
      };
      const onState = (s: MqttState): void => {
        if (s === 'stopped') {
          done();
          reject(new BeepkitError('E_STOPPED', 'stopped before connecting'));
        }
      };
      client.on('connect', onConnect);
      client.on('error', onError);
      this.on('state', onState);
    });
  }

  async stop(): Promise<void> {
    const client = this.#client;
    if (!client || this.state === 'stopped') return;
    this.setState('stopped');
    this.#retry.cancel();
    this.#held = undefined;
    await endGracefully(client, 3000);
    const err = new BeepkitError('E_STOPPED', 'MQTT client stopped');
    for (const w of [...this.#pending, ...this.#slotWaiters.splice(0)]) w.reject(err);
    this.#pending.clear();
  }

  async subscribe(filter: string, qos: QoS = 1): Promise<QoS> {
    const client = this.requireStarted(this.#client);
    const granted = await new Promise<number>((resolve, reject) => {
      client.subscribe(filter, { qos }, (err, g) => {
        const refused = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted?.some((q) => (q & 0x80) !== 0);
        if (refused) resolve(128);
        else if (err) reject(new BeepkitError('E_IO', `subscribe ${filter} failed: ${err.message}`, { cause: err }));
        else resolve(g?.[0]?.qos ?? 128);
      });
    });
    if (granted === 128) throw new BeepkitError('E_DENIED', `subscription to ${filter} refused by the broker`);
    return granted as QoS;
  }

  async publish(topic: string, payload: Uint8Array | string, opts: { qos?: QoS; retain?: boolean } = {}): Promise<void> {
    const client = this.requireStarted(this.#client);
    const max = this.#o.maxInflight ?? 1000;
    while (this.#inflight >= max) {
      await new Promise<void>((resolve, reject) => this.#slotWaiters.push({ resolve, reject }));
    }
    this.#inflight++;
    this.counters.published++;
    try {
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = { resolve, reject };
        this.#pending.add(w);
        const body = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
        client.publish(topic, body, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err) => {
          if (!this.#pending.delete(w)) return;
          if (err) reject(new BeepkitError('E_IO', `publish to ${topic} failed: ${err.message}`, { cause: err }));
          else resolve();
        });
      });
      this.counters.publishAcked++;
    } catch (e) {
      this.counters.publishFailed++;
      throw e;
    } finally {
      this.#inflight--;
      this.#slotWaiters.shift()?.resolve();
    }
  }

  #onPublish(packet: IPublishPacket, cb: (err?: Error) => void): void {
    this.counters.received++;
    if (!this.#handler) {
      this.#held = { packet, cb }; // serial pump: at most one held message
      return;
    }
    this.#deliver(packet, cb);
  }

  #deliver(packet: IPublishPacket, cb: (err?: Error) => void): void {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (packet.qos === 0) {
      cb();
      this.#handler?.(packet.topic, payload, () => {});
      return;
    }
    const gen = this.#generation;
    let settled = false;
    const slot: PendingAck = { messageId: packet.messageId ?? -1, ok: false };
    this.#ackQueue.push(slot);
    if (!this.#unsent.has(slot.messageId)) this.#unsent.set(slot.messageId, slot);
    // MQTT.js goes on with the next packet (its PUBACK for this one is held, see #interceptPubacks), unless the window is full
    const counted = this.#o.bounded?.(packet.topic) ?? true;
    if (!counted || ++this.#handling < (this.#o.maxPending ?? 64)) cb();
    else {
      this.counters.paused++;
      this.#parked = cb;
    }
    const ack = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (gen !== this.#generation || this.state !== 'connected') {
        this.counters.staleAcks++;
        return;
      }
      if (ok) {
        this.counters.acked++;
        slot.ok = true;
        this.#releaseAcks();
        if (counted) {
          this.#handling--;
          const parked = this.#parked;
          this.#parked = undefined;
          parked?.(); // a place is free: MQTT.js reads on
        }
      } else {
        this.counters.nacked++;
        this.#log.warn({ topic: packet.topic, messageId: packet.messageId }, 'message not acknowledged: reconnecting for redelivery');
        this.#client?.stream?.destroy();
      }
    };
    this.#handler?.(packet.topic, payload, ack);
  }

  /** Holds back the PUBACKs MQTT.js sends for pipelined messages until the handler acks them. */
  #interceptPubacks(client: MqttClient): void {
    const c = client as unknown as { _sendPacket: (pkt: Packet, cb?: () => void, ...rest: unknown[]) => void };
    const send = c._sendPacket.bind(client);
    c._sendPacket = (pkt, cb, ...rest) => {
      if (pkt.cmd === 'puback') {
        const id = pkt.messageId ?? -1;
        let slot = this.#unsent.get(id);
        if (slot) this.#unsent.delete(id);
        else slot = this.#ackQueue.find((p) => p.messageId === id && !p.send); // a second message with an id still held
        if (slot) {
          slot.send = () => send(pkt, undefined, ...rest);
          cb?.();
          this.#releaseAcks();
          return;
        }
      }
      send(pkt, cb, ...rest);
    };
  }

  /** Sends held PUBACKs from the head of the queue while they are acked, in arrival order. */
  #releaseAcks(): void {
    while (this.#ackQueue.length > 0 && this.#ackQueue[0].ok && this.#ackQueue[0].send) {
      this.#ackQueue.shift()!.send!();
    }
  }

  #onClose(): void {
    if (this.state === 'connected') this.counters.disconnects++;
    this.#ackQueue = [];
    this.#unsent.clear();
    this.#handling = 0;
    this.#parked = undefined; // the stream it would resume is gone
    this.#generation++;
    this.#held = undefined;
    if (this.state === 'stopped') return;
    this.setState('reconnecting');
    this.#retry.schedule(() => {
      if (this.state === 'stopped' || !this.#client) return;
      this.counters.reconnectAttempts++;
      this.setState('connecting');
      this.#client.reconnect();
    });
  }
}
