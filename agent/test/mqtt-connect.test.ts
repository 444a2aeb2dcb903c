/**
 * device-core's connectMqtt (the agent's MQTT connection without MQTT.js's connect(): its own mqtt:// and
 * mqtts:// sockets): the URL table, and connections to the embedded broker over TCP and over TLS (a real
 * test PKI from openssl: the right CA connects, another CA is refused with the TLS error, a closed port
 * rejects), and the AgentMqtt session over TLS end to end.
 */
import t from 'tap';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectMqttOnce, parseBrokerUrl } from '@beepkit/device-core/mqtt';
import { DEFAULT_DEVICE_PATTERNS, EmbeddedBroker, generateTestPki, hashPassword } from '@beepkit/gateway/broker';
import { missing } from '../../scripts/tools.ts';
import { freePort } from '../../scripts/ports.ts';
import { devicePassword, deviceMqtt, tempDir } from './net-helpers.ts';

const DEVICE = 'mqtt-connect-1';

t.test('parseBrokerUrl: mqtt:// and mqtts:// with their default ports; anything else E_CONFIG', async (t) => {
  const table: [string, ReturnType<typeof parseBrokerUrl>][] = [
    ['mqtt://broker.example', { secure: false, host: 'broker.example', port: 1883 }],
    ['mqtts://broker.example', { secure: true, host: 'broker.example', port: 8883 }],
    ['mqtt://127.0.0.1:18830', { secure: false, host: '127.0.0.1', port: 18830 }],
    ['mqtts://[::1]:8884', { secure: true, host: '::1', port: 8884 }],
    ['mqtt://kit%2D1:p%40ss@10.0.0.2:1884', { secure: false, host: '10.0.0.2', port: 1884, username: 'kit-1', password: 'p@ss' }],
  ];
  for (const [url, want] of table) t.same(parseBrokerUrl(url), want, url);
  for (const bad of ['ws://broker:80', 'http://broker', 'tcp://broker:1883', 'broker:1883', 'mqtt://', '']) {
    t.throws(() => parseBrokerUrl(bad), { code: 'E_CONFIG' }, `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('connections to the embedded broker over TCP and TLS', { skip: missing('openssl') }, async (t) => {
  const tmp = tempDir('beepkit-mqtt-connect-');
  t.teardown(() => tmp.remove());
  const pki = await generateTestPki(tmp.dir);
  mkdirSync(join(tmp.dir, 'other'));
  const otherCa = readFileSync((await generateTestPki(join(tmp.dir, 'other'))).caFile);
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    credentials: { [DEVICE]: hashPassword(devicePassword(DEVICE), { iterations: 1000 }) },
    acl: { superusers: [], patterns: DEFAULT_DEVICE_PATTERNS },
    tls: { port: 0, host: '127.0.0.1', cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) },
  });
  await broker.start();
  t.teardown(() => broker.stop());
  const creds = { clientId: DEVICE, username: DEVICE, password: devicePassword(DEVICE), reconnectPeriod: 0, connectTimeout: 5000, clean: true };

  const plain = await connectMqttOnce(broker.url, creds);
  t.ok(plain.connected, 'mqtt:// connects');
  await plain.endAsync();

  const secure = await connectMqttOnce(broker.tlsUrl!, { ...creds, ca: readFileSync(pki.caFile) });
  t.ok(secure.connected, 'mqtts:// connects with the CA that signed the broker');
  await secure.endAsync();

  await t.rejects(connectMqttOnce(broker.tlsUrl!, { ...creds, ca: otherCa }), /certificate/i, 'mqtts:// with another CA is refused with the TLS error');
  await t.rejects(
    connectMqttOnce(broker.url, { ...creds, password: 'wrong' }),
    /not authori[sz]ed|bad user ?name or password/i,
    'a wrong password is refused by the broker',
  );
  const closed = await freePort();
  await t.rejects(connectMqttOnce(`mqtt://127.0.0.1:${closed}`, creds), /ECONNREFUSED|connect/i, 'a closed port rejects');

  // the agent's session (AgentMqtt: persistent session, will, retained status) over TLS
  const agent = deviceMqtt(broker.tlsUrl!, DEVICE, 3, { ca: readFileSync(pki.caFile) });
  agent.start();
  await agent.whenConnected();
  t.equal(agent.state, 'connected', 'AgentMqtt connects over mqtts://');
  await agent.stop();
});
