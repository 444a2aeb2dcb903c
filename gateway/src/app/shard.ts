/**
 * Several gateway processes (README "Several gateways"): the MQTT client ids and
 * subscriptions of one shard. Every shard joins the share group `<group>` on the
 * uplink-batch and device-status filters, so mosquitto hands each batch to ONE
 * gateway process (and one of its connections). The main shard alone also takes
 * every other uplink kind (CA, catch-up, venue, diagnosis, notification), shared
 * among its own connections only (group `<group>-main`): filters per kind, since
 * mosquitto keys a shared subscription by group and filter, so an overlapping
 * `up/+` would deliver each batch a second time.
 */
import { shared, TOPIC_PREFIX, UPLINK, type UplinkKind } from '@beepkit/protocol/wire';
import type { GatewayConfig, ShardConfig } from './config.ts';

const upFilter = (kind: UplinkKind): string => `${TOPIC_PREFIX}/dev/+/up/${UPLINK[kind]}`;
const STATUS = `${TOPIC_PREFIX}/dev/+/status`;

/** Subscription filters of a shard. */
export function shardSubscriptions(group: string, shard: ShardConfig): string[] {
  const out = [shared(group, upFilter('uplink-batch')), shared(group, STATUS)];
  if (shard.role === 'main') {
    for (const k of Object.keys(UPLINK) as UplinkKind[]) if (k !== 'uplink-batch') out.push(shared(`${group}-main`.slice(0, 64), upFilter(k)));
  }
  return out;
}

/** The client id of connection `k` (a restarted process resumes the same persistent sessions). */
export function connectionClientId(b: GatewayConfig['broker'], shard: ShardConfig | undefined, k: number): string {
  const base = shard ? `${b.clientId}-s${shard.id}` : b.clientId;
  return b.connections > 1 || shard ? `${base}-${k}` : base;
}
