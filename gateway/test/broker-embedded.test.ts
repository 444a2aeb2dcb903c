import t from 'tap';
import { EmbeddedBroker } from '../src/broker/index.ts';
import { client, collect, opener, CREDENTIALS, POLICY } from './broker-helpers.ts';

t.test('aedes embedded broker: same auth and ACL semantics as mosquitto', async (t) => {
  const broker = new EmbeddedBroker({ port: 0, credentials: CREDENTIALS, acl: POLICY });
  await broker.start();
  t.teardown(() => broker.stop());
  t.ok(broker.port > 0, `listening on the kernel-chosen port ${broker.port}`);
  const { open, stopAll } = opener(broker.url);
  t.teardown(stopAll);

  t.test('wrong password and unknown user are refused', async (t) => {
    await t.rejects(client(broker.url, 'dev1', 'bad-1', { password: 'nope' }).start(), { code: 'E_AUTH' });
    await t.rejects(client(broker.url, 'mallory', 'bad-2', { password: 'x' }).start(), { code: 'E_AUTH' });
    t.equal(broker.stats.connectionsRefused, 2);
  });

  t.test('an MQTT 5 client is refused (aedes 1.2 speaks 3.1/3.1.1 only)', async (t) => {
    await t.rejects(client(broker.url, 'dev1', 'v5', { protocolVersion: 5, startTimeoutMs: 3000 }).start());
  });

  t.test('MQTT 3.1.1 pub/sub; forged publish acked and dropped', async (t) => {
    const gw = await open('gateway', 'gw-acl');
    const seen = collect(gw);
    t.equal(await gw.subscribe('#', 1), 1);
    const dev1 = await open('dev1', 'dev1-acl');
    await dev1.publish('beepkit/v1/dev/dev2/up/batch', 'forged');
    await dev1.publish('beepkit/v1/dev/dev1/up/batch', 'control');
    await seen.waitFor((g) => g.some((m) => m.payload === 'control'));
    t.same(seen.got, [{ topic: 'beepkit/v1/dev/dev1/up/batch', payload: 'control' }]);
    t.equal(broker.stats.publishesDenied, 1);
    t.equal(dev1.state, 'connected', 'the device stays connected, as with mosquitto');
  });

  t.test('a device never receives another device reply topic', async (t) => {
    const dev1 = await open('dev1', 'dev1-sub');
    const inbox = collect(dev1);
    await dev1.subscribe('beepkit/v1/dev/+/reply', 1);
    const gw = await open('gateway', 'gw-sub');
    await gw.publish('beepkit/v1/dev/dev2/reply', 'not-yours');
    await gw.publish('beepkit/v1/dev/dev1/reply', 'yours');
    await inbox.waitFor((g) => g.length >= 1);
    t.same(inbox.got, [{ topic: 'beepkit/v1/dev/dev1/reply', payload: 'yours' }]);
  });

  t.test('shared subscriptions are refused, not silently dead', async (t) => {
    const gw = await open('gateway', 'gw-share');
    await t.rejects(gw.subscribe('$share/gateway/beepkit/v1/dev/+/up/+', 1), { code: 'E_DENIED' });
  });
});
