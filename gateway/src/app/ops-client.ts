/**
 * The operator CLIs' way into a running gateway: one request on the caller's
 * own device topic (dev/<username>/up/<kind>) through the gateway's broker,
 * the reply awaited, a coded refusal thrown as a BeepkitError with its code.
 * Used by `diagnose endorse|submit --broker`, `venue signoff --broker`,
 * `venue status --broker` and `solver run --broker`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BeepkitError, remoteError } from '@beepkit/protocol';
import type { UplinkKind, WireMessage } from '@beepkit/protocol/wire';
import { AgentMqtt } from '@beepkit/device-core/mqtt';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface BrokerOpts {
  broker?: string;
  username?: string;
  passwordFile?: string;
  caFile?: string;
  timeout?: string;
}

/** The options of every command that can talk to a running gateway. */
export function brokerOptions(c: Command): Command {
  return c
    .option('--broker <url>', "the running gateway's broker (mqtt:// or mqtts://)")
    .option('--username <id>', 'MQTT username = device topic id ([a-z0-9-]{8,64}) with --broker')
    .option('--password-file <file>', 'its MQTT password (one line) with --broker')
    .option('--ca-file <file>', 'CA certificate (PEM) of an mqtts:// broker')
    .option('--timeout <ms>', 'wait this long for the connection and the reply', '30000');
}

/** Sends one request and returns the reply (E_DENIED etc. from the gateway rethrown with its code). */
export async function gatewayRequest(o: BrokerOpts, kind: UplinkKind, body: DistributiveOmit<WireMessage, 'correlationId'>): Promise<WireMessage> {
  if (!o.broker) throw new BeepkitError('E_CONFIG', '--broker is required here');
  if (!o.username) throw new BeepkitError('E_CONFIG', '--username is required with --broker');
  const password = o.passwordFile ? readFileSync(o.passwordFile, 'utf8').trim() : undefined;
  const timeoutMs = Number(o.timeout ?? 30_000);
  if (!(timeoutMs > 0)) throw new BeepkitError('E_CONFIG', `--timeout: not a positive number: ${o.timeout}`);
  const mqtt = new AgentMqtt({
    url: o.broker,
    deviceId: o.username,
    clientId: `${o.username}:op` /* a device connects with its own id or <username>:<suffix> (gateway/src/broker) */,
    password,
    ca: o.caFile ? readFileSync(o.caFile) : undefined,
    agentVersion: 'beepkit-cli',
    connectTimeoutMs: timeoutMs,
  });
  let lastError: Error | undefined;
  mqtt.on('error', (e: Error) => (lastError = e));
  mqtt.start();
  try {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_r, reject) => {
      timer = setTimeout(
        () => reject(new BeepkitError('E_TIMEOUT', `no connection to ${o.broker} within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([mqtt.whenConnected(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    const reply = await mqtt.request(kind, { ...body, correlationId: new Uint8Array(randomBytes(8)) } as WireMessage, timeoutMs);
    if (reply.type === 'error') throw remoteError(reply.code, `gateway refused: ${reply.message}`);
    return reply;
  } finally {
    await mqtt.stop();
  }
}
