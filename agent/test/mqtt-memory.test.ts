// AgentMqtt keeps no per-packet-id Buffer cache (agent/README "Memory"): mqtt-packet otherwise builds, on the
// first packet it writes, 65 536 two-byte Buffers that stay for the life of the process (~7 MB of a trial
// agent's live V8 heap). Its own file: the module-global cache must not have been built by another client.
import t from 'tap';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { topics } from '@beepkit/protocol/wire';
import { deviceMqtt } from './net-helpers.ts';

const DEVICE = 'agent-mqtt-memory';
const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

t.test('a connected agent that subscribed and published has built no packet-id cache', { timeout: 30_000 }, async (t) => {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });
  t.equal(Object.keys(numbers.cache).length, 0, 'no cache before');
  const dev = deviceMqtt(`mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, DEVICE, 5);
  t.teardown(() => dev.stop());
  const got: number[][] = [];
  let heard!: () => void;
  const delivered = new Promise<void>((r) => (heard = r));
  await dev.subscribe(topics.notificationFeed(), (_topic, p) => void (got.push([...p]), heard()));
  dev.start();
  await dev.whenConnected();
  // QoS 1 both ways: SUBSCRIBE, PUBLISH and PUBACK carry packet ids
  await new Promise<void>((resolve, reject) =>
    aedes.publish({ cmd: 'publish', topic: topics.notificationFeed(), payload: Buffer.from([9]), qos: 1, retain: false, dup: false }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  await delivered;
  t.same(got, [[9]], 'the feed message arrived (packet ids written)');
  t.equal(Object.keys(numbers.cache).length, 0, 'still no cache of packet-id Buffers');
});
