/**
 * Online venue registration: the beacon sends its VenueRegister (venue id,
 * region, position, radius, name and the 32-byte venue key) to the gateway's
 * CA over MQTT on its own device topic (beepkit/v1/dev/<id>/up/venue-register).
 * The gateway accepts it only when <id> is listed in `ca.trustedBeacons` and
 * the broker ACL binds that topic to this beacon's credentials (use mqtts://
 * outside a lab: the key travels in the message). Replies: a VenueStatusReply
 * (state empty) or a coded error, thrown here as a BeepkitError with that code.
 */
import { BeepkitError, remoteError } from '@beepkit/protocol/errors';
import { toHex } from '@beepkit/protocol/bytes';
import { AgentMqtt } from '@beepkit/device-core/mqtt';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { venueRegister, type VenueInfo, type VenueKey } from './provision.ts';

export interface RegisterOptions {
  /** mqtt:// or mqtts:// URL of the gateway's broker. */
  url: string;
  /** This beacon's device topic id (listed in the gateway's ca.trustedBeacons). */
  deviceId: string;
  password?: string;
  ca?: string | Buffer;
  timeoutMs?: number;
  logger?: Logger;
}

export interface Registered {
  venueId: string;
  state: string;
}

export async function registerOverMqtt(v: VenueKey, info: VenueInfo, o: RegisterOptions): Promise<Registered> {
  const log = o.logger ?? silentLogger;
  const mqtt = new AgentMqtt({ url: o.url, deviceId: o.deviceId, password: o.password, ca: o.ca, agentVersion: 'beacon', logger: log });
  mqtt.on('error', () => {});
  mqtt.start();
  try {
    const timeoutMs = o.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new BeepkitError('E_TIMEOUT', `no connection to ${o.url} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([mqtt.whenConnected(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    const reply = await mqtt.request('venue-register', venueRegister(v, info), timeoutMs);
    if (reply.type === 'error') throw remoteError(reply.code, `gateway refused the registration: ${reply.message}`);
    if (reply.type !== 'venue-status-reply') throw new BeepkitError('E_TYPE', `unexpected reply ${reply.type}`);
    log.info({ venueId: toHex(v.venueId) }, 'beacon: venue registered with the gateway CA');
    return { venueId: toHex(reply.venueId), state: reply.state };
  } finally {
    await mqtt.stop();
  }
}
