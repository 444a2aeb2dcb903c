/**
 * The agent's network side over MQTT: one AgentMqtt connection, the CA
 * client with its durable certificate store, the uplink (signed batches from
 * the outbox, verified receipts, upload when the policy allows) and the
 * notification follower feeding self-matching.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, remoteError } from '@beepkit/protocol';
import { fromHex } from '@beepkit/protocol/bytes';
import { venueId6, venueIdHex } from '@beepkit/protocol/frames';
import { encodeMessage, topics } from '@beepkit/protocol/wire';
import { randomBytes } from 'node:crypto';
import { AgentMqtt, type AgentMqttOptions } from '@beepkit/device-core/mqtt';
import type { AlertOptions } from '../alerts/index.ts';
import { readBetaFile } from '../risk/index.ts';
import { CaClient, CertStore } from '../ca-client/index.ts';
import { Uplink } from '../uplink/index.ts';
import { Follower, SelfMatcher } from '../follow/index.ts';
import { WearableProxy } from '../carer/proxy.ts';
import type { AgentNetwork, NetworkContext, NetworkFactory } from './ports.ts';

/** The connection options of a configured agent: its broker, its username (broker.username, else the device id), password and CA. */
export function mqttOptionsOf(cfg: NetworkContext['config'], deviceId: string): AgentMqttOptions {
  const b = cfg.broker;
  if (!b.url) throw new BeepkitError('E_CONFIG', 'config broker.url: needed for the network');
  const password = b.password ?? (b.passwordFile ? readFileSync(b.passwordFile, 'utf8').trim() : undefined);
  return { url: b.url, deviceId, username: b.username ?? deviceId, password, ca: b.caFile ? readFileSync(b.caFile) : undefined };
}

/** Alert options from the config: with risk.betaFile, Song et al.'s probability on every alert. */
export function alertOptionsOf(cfg: NetworkContext['config']): AlertOptions {
  if (!cfg.risk.betaFile) return {};
  return { beta: readBetaFile(cfg.risk.betaFile), material: cfg.risk.material, txPowerDbm: cfg.radio.txPower };
}

/** The agent's version as its retained DeviceStatus reports it (agent/package.json). */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const mqttNetwork: NetworkFactory = async (ctx: NetworkContext): Promise<AgentNetwork> => {
  const { config: cfg, logger } = ctx;
  const b = cfg.broker;
  if (!b.url) throw new BeepkitError('E_CONFIG', 'config broker.url: needed for the network');
  const caPublicKey = fromHex(cfg.anchors.caPublicKey!.toLowerCase());
  const gatewayPublicKey = fromHex(cfg.anchors.gatewayPublicKey!.toLowerCase());
  // receipts: the gateway's key and, with several gateways, every other shard's (gateway/README.md "Several gateways")
  const receiptKeys = [gatewayPublicKey, ...(cfg.anchors.shardPublicKeys ?? []).map((k) => fromHex(k.toLowerCase()))];
  let counters = (): Record<string, number> => ({});
  const mqtt = new AgentMqtt({ ...mqttOptionsOf(cfg, ctx.deviceId), agentVersion: AGENT_VERSION, counters: () => counters(), logger });
  mqtt.on('error', () => {});
  const store = await new CertStore(join(cfg.dataDir, 'certs')).load();
  const ca = new CaClient({ mqtt, store, caPublicKey, now: ctx.now, logger });
  const uplink = new Uplink({
    outbox: ctx.outbox,
    mqtt,
    dayKeys: ctx.dayKeys,
    certificates: store,
    gatewayPublicKey: receiptKeys,
    quarantineDir: join(cfg.dataDir, 'quarantine'),
    mayUpload: ctx.mayUpload,
    policyPollMs: cfg.upload.tickMs,
    logger,
  });
  const matcher = new SelfMatcher({
    dispatcher: { dispatch: (a) => ctx.raise(a) },
    ownPrefixes: ctx.ownPrefixes,
    encounters: ctx.encounters,
    ownVisits: ctx.ownVisits,
    shared: ctx.shared,
    now: ctx.now,
    retentionDays: cfg.keystore.retentionDays,
    alert: alertOptionsOf(cfg),
    // notification entries carry 8-byte venue ids; visits are logged by the 6-byte id (protocol venueIdHex)
    venueIdOf: venueIdHex,
  });
  const wearables =
    ctx.carer &&
    new WearableProxy({
      ...ctx.carer,
      dataDir: cfg.dataDir,
      mqtt,
      caPublicKey,
      gatewayPublicKey: receiptKeys,
      mayUpload: ctx.mayUpload,
      uplink: { policyPollMs: cfg.upload.tickMs },
      now: ctx.now,
      retentionDays: cfg.keystore.retentionDays,
      logger,
      // the carer's alert topic (beepkit/v1/carer/<deviceId>/alert), opt-in: the broker ACL must let the device write it (agent/README.md "Carer")
      publishAlert: !cfg.carer.publishAlerts
        ? undefined
        : (a) =>
            mqtt.publish(
              topics.carerAlert(ctx.deviceId),
              encodeMessage({
                type: 'carer-alert',
                correlationId: new Uint8Array(randomBytes(8)),
                wearableLabel: a.person,
                risk: a.level,
                day: a.day,
                explanation: a.explanation,
              }),
            ),
    });
  const onBlock = async (blk: Parameters<SelfMatcher['onBlock']>[0]): Promise<void> => {
    await matcher.onBlock(blk);
    await wearables?.onBlock(blk);
  };
  let failure: string | undefined;
  let lastReceiptMs: number | undefined;
  uplink.on('delivered', () => (lastReceiptMs = ctx.now()));
  uplink.on('fatal', (e: unknown) => (failure = `uplink stopped: ${(e as { code?: string }).code ?? 'E_INTERNAL'}`));
  const follower = new Follower({ mqtt, gatewayPublicKey, cursorPath: join(cfg.dataDir, 'notification.cursor'), onBlock, logger });
  counters = () => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(mqtt.counters)) out[`mqtt_${k}`] = v;
    for (const [k, v] of Object.entries(uplink.counters)) out[`uplink_${k}`] = v;
    for (const [k, v] of Object.entries(follower.counters)) out[`follow_${k}`] = v;
    for (const [k, v] of Object.entries(matcher.counters)) out[`match_${k}`] = v;
    return out;
  };
  return {
    get state() {
      return mqtt.state;
    },
    get failure() {
      return failure;
    },
    get lastReceiptMs() {
      return lastReceiptMs;
    },
    counters: () => counters(),
    async start() {
      mqtt.start();
      await follower.start();
      await uplink.start();
      await wearables?.start();
    },
    async stop() {
      await wearables?.stop();
      await uplink.stop();
      await follower.stop();
      await mqtt.stop();
    },
    certificate: (day) => store.entry(day),
    authorise: (evidence, signer) => ca.authorise(evidence, signer),
    flush: async () => uplink.kick(),
    purgeBefore: (day) => store.purgeBefore(day),
    wearables,
    async venueStatus(venueId, timeoutMs = 15_000) {
      const r = await mqtt.request(
        'venue-status-query',
        { type: 'venue-status-query', correlationId: new Uint8Array(randomBytes(8)), venueId: venueId6(venueId) },
        timeoutMs,
      );
      if (r.type === 'error') throw remoteError(r.code, `gateway refused: ${r.message}`);
      if (r.type !== 'venue-status-reply') throw new BeepkitError('E_TYPE', `unexpected reply ${r.type}`);
      return { state: r.state, sinceMs: r.sinceMs };
    },
  };
};
