/** Shared fixtures of the gateway application tests with a broker (not a test file itself). */
import { toHex } from '@beepkit/protocol';
import { decodeMessage, encodeMessage, topics, type WireMessage } from '@beepkit/protocol/wire';
import { DEFAULT_DEVICE_PATTERNS, findMosquitto, hashPassword, MosquittoRunner } from '../src/broker/index.ts';
import { GatewayMqtt } from '../src/mqtt.ts';
import { resolveConfig, type GatewayConfig } from '../src/app/config.ts';
import { cid, prng } from './gw-fixtures.ts';

export * from './gw-fixtures.ts';
/** A message without its correlation id (distributes over the union). */
export type Unsent<M = WireMessage> = M extends WireMessage ? Omit<M, 'correlationId'> : never;
export const MOSQUITTO = findMosquitto();

export const GW_PASSWORD = 'gw-test-secret';
export function devicePassword(id: string): string {
  return `pw-${id}`;
}

/** A real mosquitto (tuned) with the gateway user and `devices` as users. */
export function mosquitto(dir: string, port: number, devices: string[]): MosquittoRunner {
  const credentials: Record<string, string> = { gateway: hashPassword(GW_PASSWORD, { iterations: 1000 }) };
  for (const d of devices) credentials[d] = hashPassword(devicePassword(d), { iterations: 1000 });
  return new MosquittoRunner({ dir, port, credentials, acl: { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS }, queues: 'tuned' });
}

/** One MQTT client id per gateway data dir (a restarted gateway resumes its session), not per port. */
const gatewayIds = new Map<string, number>();
const gatewayId = (dataDir: string): number => gatewayIds.get(dataDir) ?? (gatewayIds.set(dataDir, gatewayIds.size + 1), gatewayIds.size);
/** `httpPort` 0: kernel-chosen (read `gw.httpPort`). */
export function gatewayConfig(dataDir: string, url: string, httpPort: number, extra: Record<string, unknown> = {}): GatewayConfig {
  return resolveConfig({
    dataDir,
    broker: { url, password: GW_PASSWORD, username: 'gateway', clientId: `gw-test-${gatewayId(dataDir)}`, connections: 2 },
    http: { port: httpPort },
    log: { level: 'silent' },
    ...extra,
  });
}

/** A device: MQTT client with its topic id as username; request() waits for the reply with the same correlation id. */
export class Device {
  readonly mqtt: GatewayMqtt;
  readonly replies: WireMessage[] = [];
  readonly feed: Buffer[] = [];
  #waiters: { pred: () => boolean; resolve(): void }[] = [];
  #n = 0;
  constructor(
    readonly id: string,
    url: string,
    o: { user?: string } = {},
  ) {
    const user = o.user ?? id;
    this.mqtt = new GatewayMqtt({
      url,
      clientId: `${user}:c-${id}`,
      username: user,
      password: devicePassword(user),
      clean: true,
      backoff: { initialMs: 50, maxMs: 500 },
      random: prng(id.length),
      maxInflight: 5000,
    });
    this.mqtt.on('error', () => {});
    this.mqtt.onMessage((topic, payload, ack) => {
      ack(true);
      if (topic === topics.notificationFeed()) this.feed.push(payload);
      else this.replies.push(decodeMessage(payload));
      for (const w of this.#waiters.splice(0)) {
        if (w.pred()) w.resolve();
        else this.#waiters.push(w);
      }
    });
  }
  async start(feed = false): Promise<this> {
    await this.mqtt.start();
    await this.mqtt.subscribe(topics.reply(this.id), 1);
    if (feed) await this.mqtt.subscribe(topics.notificationFeed(), 1);
    return this;
  }
  waitFor(pred: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      if (pred()) resolve();
      else this.#waiters.push({ pred, resolve });
    });
  }
  nextCid(): Uint8Array {
    return cid(++this.#n + 1000 * this.id.length);
  }
  /** Publishes `m` (with a fresh correlation id) on the uplink topic and waits for its reply. */
  async request(kind: Parameters<typeof topics.uplink>[0], m: Unsent): Promise<WireMessage> {
    const correlationId = this.nextCid();
    const key = toHex(correlationId);
    await this.mqtt.publish(topics.uplink(kind, this.id), encodeMessage({ ...m, correlationId } as WireMessage), { qos: 1 });
    const find = (): WireMessage | undefined => this.replies.find((r) => toHex(r.correlationId) === key);
    await this.waitFor(() => find() !== undefined);
    return find()!;
  }
  stop(): Promise<void> {
    return this.mqtt.stop();
  }
}
