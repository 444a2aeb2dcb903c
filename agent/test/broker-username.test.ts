/**
 * broker.username is the MQTT username: a kit configured from agent.example.yaml
 * (username kit-0001, no deviceId) logs in to a real mosquitto as kit-0001, and its
 * retained DeviceStatus lands on its own topic (the ACL binds dev/<username>/…).
 */
import t from 'tap';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { decodeMessage, topics } from '@beepkit/protocol/wire';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { loadConfig, resolveConfig } from '../src/config/index.ts';
import { deviceIdOf, mqttOptionsOf } from '../src/app/index.ts';
import { AgentMqtt } from '@beepkit/device-core/mqtt';
import { GW_PASSWORD, devicePassword, mosquitto } from './net-helpers.ts';
import { missing } from '../../scripts/tools.ts';

const EXAMPLE = fileURLToPath(new URL('../agent.example.yaml', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

t.test('config: broker.username is the device topic id', async (t) => {
  t.throws(() => resolveConfig({ dataDir: '/tmp/x', deviceId: 'kit-aaaa-0001', broker: { username: 'kit-bbbb-0002' } }), {
    code: 'E_CONFIG',
    message: /broker\.username: must equal deviceId/,
  });
  t.throws(() => resolveConfig({ dataDir: '/tmp/x', broker: { username: 'Kit_1' } }), { code: 'E_CONFIG', message: /broker\.username/ });
  const cfg = resolveConfig({
    dataDir: '/tmp/x',
    broker: { url: 'mqtt://127.0.0.1:1', username: 'kit-0001', password: 'p' },
    anchors: { caPublicKey: 'aa'.repeat(32), gatewayPublicKey: 'bb'.repeat(32) },
  });
  t.equal(await deviceIdOf(cfg), 'kit-0001', 'no deviceId: the username is the topic id');
  t.match(mqttOptionsOf(cfg, 'kit-0001'), { username: 'kit-0001', deviceId: 'kit-0001' });
});

t.test('a kit from agent.example.yaml logs in to mosquitto as broker.username', { skip: missing('mosquitto') }, async (t) => {
  const dir = t.testdir();
  const port = await freePort();
  const broker = mosquitto(join(dir, 'mosq'), port, ['kit-0001']);
  await broker.start();
  t.teardown(() => broker.stop());
  writeFileSync(join(dir, 'pw'), devicePassword('kit-0001') + '\n', { mode: 0o600 });
  const cfg = loadConfig(EXAMPLE, {
    BEEPKIT_AGENT_DATA_DIR: join(dir, 'data'),
    BEEPKIT_AGENT_BROKER__URL: broker.url,
    BEEPKIT_AGENT_BROKER__PASSWORD_FILE: join(dir, 'pw'),
  });
  t.equal(cfg.broker.username, 'kit-0001', 'the example names its username');
  const id = await deviceIdOf(cfg);
  t.equal(id, 'kit-0001');

  const gw = new GatewayMqtt({ url: broker.url, clientId: 'watch', username: 'gateway', password: GW_PASSWORD, clean: true });
  let seen!: (topic: string) => void;
  const status = new Promise<string>((r) => (seen = r));
  gw.onMessage((topic, payload, ack) => {
    if (decodeMessage(payload).type === 'device-status') seen(topic);
    ack(true);
  });
  await gw.start();
  t.teardown(() => gw.stop());
  await gw.subscribe(topics.status('kit-0001'), 1);

  const kit = new AgentMqtt(mqttOptionsOf(cfg, id));
  kit.on('error', () => {});
  kit.start();
  t.teardown(() => kit.stop());
  await kit.whenConnected();
  t.ok(kit.connected, 'connected as kit-0001');
  t.equal(await status, topics.status('kit-0001'), 'its DeviceStatus arrived on its own topic (the ACL let kit-0001 write it)');
});
