/**
 * MQTT connections for device code: MQTT.js's client over a TCP or TLS socket opened here with
 * node:net / node:tls. MQTT.js's own `connect()` loads, on its first call, every transport it knows
 * (WebSocket through `ws`, SOCKS proxies through `socks`, `ip-address` and `smart-buffer`): ~170 kB of
 * source a device agent would hold for its whole life and never run (agent/README "Memory"). A device
 * speaks mqtt:// and mqtts:// only (the agent's config refuses anything else).
 *
 * What MQTT.js's tcp and tls stream builders do is kept: port 1883 / 8883 by default, the SNI server
 * name for a host name (not an IP), and with `rejectUnauthorized` (the default) a TLS error or an
 * unauthorized peer reaches the client's 'error' and ends the socket.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
// MQTT.js's client module alone (mqtt/build/lib/client.js, CommonJS: its default export is module.exports)
import clientModule from 'mqtt/lib/client';
import type { IClientOptions, MqttClient } from 'mqtt';
import { BeepkitError } from '@beepkit/protocol';

export interface BrokerAddress {
  secure: boolean;
  host: string;
  port: number;
  /** user:password in the URL, when there (options given to connectMqtt win). */
  username?: string;
  password?: string;
}

/** mqtt://host[:port] or mqtts://host[:port] → its parts; E_CONFIG for anything else. */
export function parseBrokerUrl(url: string): BrokerAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BeepkitError('E_CONFIG', `broker URL ${JSON.stringify(url)} is not a URL (mqtt://host:port or mqtts://host:port)`);
  }
  const secure = u.protocol === 'mqtts:';
  if (!secure && u.protocol !== 'mqtt:') {
    throw new BeepkitError('E_CONFIG', `broker URL ${JSON.stringify(url)}: only mqtt:// and mqtts:// are spoken here`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new BeepkitError('E_CONFIG', `broker URL ${JSON.stringify(url)} names no host`);
  const out: BrokerAddress = { secure, host, port: u.port ? Number(u.port) : secure ? 8883 : 1883 };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  return out;
}

/** An MQTT.js client connecting to `url` (mqtt:// or mqtts://) with `opts`, as MQTT.js's connect() would. */
export function connectMqtt(url: string, opts: IClientOptions): MqttClient {
  const a = parseBrokerUrl(url);
  const o: IClientOptions = { ...opts, protocol: a.secure ? 'mqtts' : 'mqtt', host: a.host, hostname: a.host, port: a.port };
  if (o.username === undefined && a.username !== undefined) o.username = a.username;
  if (o.password === undefined && a.password !== undefined) o.password = a.password;
  if (o.clean === false && !o.clientId) throw new BeepkitError('E_CONFIG', 'an MQTT session kept across connections (clean: false) needs a client id');
  const rejectUnauthorized = o.rejectUnauthorized !== false;
  const build = (client: MqttClient): Socket => {
    if (!a.secure) return netConnect({ host: a.host, port: a.port });
    const socket = tlsConnect({
      host: a.host,
      port: a.port,
      ...(isIP(a.host) === 0 ? { servername: o.servername ?? a.host } : {}),
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized,
    });
    const onError = (err: Error): void => {
      if (rejectUnauthorized) client.emit('error', err);
      socket.end();
    };
    socket.on('error', onError);
    socket.on('secureConnect', () => {
      if (rejectUnauthorized && !socket.authorized) socket.emit('error', new Error('TLS not authorized'));
      else socket.removeListener('error', onError);
    });
    return socket;
  };
  const client: MqttClient = new clientModule.default(build, o);
  client.on('error', () => {}); // as MQTT.js's connect(): an error with no other listener does not throw
  return client;
}

/**
 * One connection attempt (as MQTT.js's connectAsync(url, opts, false)): resolves with the client at the
 * first CONNACK; rejects with the first error, or when the connection closes before a CONNACK (the client
 * is ended either way).
 */
export function connectMqttOnce(url: string, opts: IClientOptions): Promise<MqttClient> {
  const client = connectMqtt(url, opts);
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      client.off('connect', onConnect);
      client.off('error', settle);
      client.off('close', onClose);
      if (!err) return resolve(client);
      client.end(true);
      reject(err);
    };
    const onConnect = (): void => settle();
    const onClose = (): void => settle(new Error("Couldn't connect to server"));
    client.on('connect', onConnect);
    client.on('error', settle);
    client.on('close', onClose);
  });
}
