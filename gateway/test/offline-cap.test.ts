// The embedded broker's cap on offline queues (src/broker/offline.ts) binds sessions that are away, never a
// connected one: a persistent device that stays online receives every message however many, and is not
// disconnected (aedes closes a client whose message vanished from its outgoing queue: "no such packet").
import t from 'tap';
import { EmbeddedBroker } from '../src/broker/index.ts';
import type { GatewayMqtt } from '../src/mqtt.ts';
import { client, CREDENTIALS, POLICY } from './broker-helpers.ts';

const REPLY = 'beepkit/v1/dev/dev1/reply';

/** Resolves when `c` has received `n` messages (acked as they come); `seen()` tells how many so far. */
function counter(c: GatewayMqtt): { until(n: number): Promise<void>; seen(): number } {
  let got = 0;
  const waits: { n: number; resolve(): void }[] = [];
  c.onMessage((_topic, _payload, ack) => {
    ack(true);
    got++;
    for (const w of waits.filter((x) => x.n <= got)) w.resolve();
  });
  return {
    until: (n) => (got >= n ? Promise.resolve() : new Promise<void>((resolve) => waits.push({ n, resolve }))),
    seen: () => got,
  };
}

t.test('maxOfflineMessages binds an offline session only', { timeout: 30_000 }, async (t) => {
  const broker = new EmbeddedBroker({ port: 0, credentials: CREDENTIALS, acl: POLICY, limits: { maxOfflineMessages: 5 } });
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = client(broker.url, 'gateway', 'gw-cap');
  await gw.start();
  t.teardown(() => gw.stop());

  const dev = client(broker.url, 'dev1', 'dev1-cap', { clean: false });
  const d = counter(dev);
  await dev.start();
  await dev.subscribe(REPLY, 1);
  for (let i = 0; i < 20; i++) await gw.publish(REPLY, `live${i}`, { qos: 1 });
  await d.until(20);
  t.equal(d.seen(), 20, 'online: all 20 of 20 with a cap of 5');
  t.equal(dev.counters.disconnects, 0, 'never disconnected');
  t.equal(broker.stats.offlineDropped, 0, 'nothing dropped while online');
  await dev.stop();

  for (let i = 0; i < 12; i++) await gw.publish(REPLY, `away${i}`, { qos: 1 });
  t.equal(broker.stats.offlineDropped, 7, 'away: 5 of 12 queued');
  const back = client(broker.url, 'dev1', 'dev1-cap', { clean: false });
  const b = counter(back);
  await back.start();
  t.teardown(() => back.stop());
  await b.until(5);
  for (let i = 0; i < 20; i++) await gw.publish(REPLY, `again${i}`, { qos: 1 });
  await b.until(25);
  t.equal(b.seen(), 25, 'back: the 5 queued, then all 20 live ones');
  t.equal(back.counters.disconnects, 0, 'never disconnected');
  t.equal(broker.stats.offlineDropped, 7, 'nothing more dropped');
});
