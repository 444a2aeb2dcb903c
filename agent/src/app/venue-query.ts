/**
 * `beepkit agent venue-status <id>`: the pre-visit check (Song et al.): the kit
 * asks the gateway for a venue's state (VenueStatusQuery on its own device
 * topic, with its configured broker credentials) and prints it.
 */
import { randomBytes } from 'node:crypto';
import { BeepkitError, remoteError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { venueId6 } from '@beepkit/protocol/frames';
import type { AgentConfig } from '../config/index.ts';
import { AgentMqtt } from '@beepkit/device-core/mqtt';
import { AGENT_VERSION, mqttOptionsOf } from './network.ts';
import { deviceIdOf } from './storage.ts';

export async function queryVenueStatus(cfg: AgentConfig, id: string, timeoutMs = 30_000): Promise<{ venue: string; state: string; sinceMs: number }> {
  const venue = venueId6(id.toLowerCase());
  const mqtt = new AgentMqtt({
    ...mqttOptionsOf(cfg, await deviceIdOf(cfg)),
    clientId: `${await deviceIdOf(cfg)}:query`,
    agentVersion: AGENT_VERSION,
    connectTimeoutMs: timeoutMs,
  });
  mqtt.on('error', () => {});
  mqtt.start();
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      mqtt.whenConnected(),
      new Promise<never>(
        (_r, reject) =>
          (timer = setTimeout(() => reject(new BeepkitError('E_TIMEOUT', `no connection to ${cfg.broker.url} within ${timeoutMs} ms`)), timeoutMs)),
      ),
    ]).finally(() => clearTimeout(timer));
    const r = await mqtt.request(
      'venue-status-query',
      { type: 'venue-status-query', correlationId: new Uint8Array(randomBytes(8)), venueId: venue },
      timeoutMs,
    );
    if (r.type === 'error') throw remoteError(r.code, `gateway refused: ${r.message}`);
    if (r.type !== 'venue-status-reply') throw new BeepkitError('E_TYPE', `unexpected reply ${r.type}`);
    return { venue: toHex(r.venueId), state: r.state, sinceMs: r.sinceMs };
  } finally {
    await mqtt.stop();
  }
}
