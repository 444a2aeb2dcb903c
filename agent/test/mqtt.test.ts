/**
 * AgentMqtt against the embedded (aedes) broker with device credentials and
 * ACL: retained online status, request/reply by correlation id, unmatched
 * replies surfaced, timeouts, undecodable replies counted, and reconnection
 * with resubscription after the broker is stopped and started again.
 */
import t from 'tap';
import { BeepkitError, toHex } from '@beepkit/protocol';
import { decodeMessage, encodeMessage, parseTopic, topics, type WireMessage } from '@beepkit/protocol/wire';
import { DEFAULT_DEVICE_PATTERNS, EmbeddedBroker, hashPassword } from '@beepkit/gateway/broker';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { GW_PASSWORD, devicePassword, deviceMqtt, once } from './net-helpers.ts';

const DEVICE = 'agent-mqtt-1';
/** `port` 0: kernel-chosen; a restarted broker comes back on the port the device knows. */
function broker(port = 0): EmbeddedBroker {
  return new EmbeddedBroker({
    host: '127.0.0.1',
    port,
    credentials: { gateway: hashPassword(GW_PASSWORD, { iterations: 1000 }), [DEVICE]: hashPassword(devicePassword(DEVICE), { iterations: 1000 }) },
    acl: { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS },
  });
}

const cid = (n: number): Uint8Array => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, n]);

/** A gateway-side responder: answers ca-requests with an error echoing the correlation id; ignores catch-up. */
async function responder(url: string, id: string): Promise<{ gw: GatewayMqtt; statuses: WireMessage[]; online: Promise<void> }> {
  const gw = new GatewayMqtt({ url, clientId: id, username: 'gateway', password: GW_PASSWORD, clean: true, backoff: { initialMs: 50, maxMs: 200 } });
  const statuses: WireMessage[] = [];
  let seen!: () => void;
  const online = new Promise<void>((r) => (seen = r));
  gw.onMessage((topic, payload, ack) => {
    ack(true);
    const p = parseTopic(topic);
    if (p.kind === 'status') {
      const m = decodeMessage(payload);
      statuses.push(m);
      if (m.type === 'device-status' && m.state === 'online') seen();
      return;
    }
    if (p.kind !== 'ca-request') return;
    const m = decodeMessage(payload);
    const reply = (correlationId: Uint8Array): Uint8Array => encodeMessage({ type: 'error', correlationId, code: 'E_TEST', message: 'echo', recordHashes: [] });
    void gw.publish(topics.reply(p.deviceId!), reply(cid(200)), { qos: 1 }); // unmatched, first
    void gw.publish(topics.reply(p.deviceId!), Uint8Array.from([1, 2, 3]), { qos: 1 }); // undecodable
    void gw.publish(topics.reply(p.deviceId!), reply(m.correlationId), { qos: 1 });
  });
  await gw.start();
  await gw.subscribe('beepkit/v1/dev/+/up/+', 1);
  await gw.subscribe('beepkit/v1/dev/+/status', 1);
  return { gw, statuses, online };
}

const caRequest = (n: number): WireMessage => ({
  type: 'ca-request',
  correlationId: cid(n),
  gnss: null,
  venues: [],
  day: 1,
  pseudonymPublicKey: new Uint8Array(32),
  extra: new Uint8Array(0),
  signature: new Uint8Array(64),
});

t.test('request/reply, status, timeouts, reconnect after a broker restart', { timeout: 60_000 }, async (t) => {
  let b = broker();
  await b.start();
  t.teardown(() => b.stop());
  let r = await responder(b.url, 'resp-1');
  t.teardown(() => r.gw.stop());
  const dev = deviceMqtt(b.url, DEVICE, 3);
  t.teardown(() => dev.stop());
  const online = once(dev, 'state', (s: string) => s === 'connected');
  dev.start();
  await online;
  t.equal(dev.state, 'connected');
  t.equal(dev.sessionPresent, false, 'first connect: new session');

  const unmatched = once<WireMessage>(dev, 'reply');
  const reply = await dev.request('ca-request', caRequest(1), 20_000);
  t.match(reply, { type: 'error', code: 'E_TEST' }, 'reply routed by correlation id');
  t.equal(toHex(reply.correlationId), toHex(cid(1)));
  t.equal(toHex((await unmatched).correlationId), toHex(cid(200)), 'an unmatched reply is emitted');
  t.equal(dev.counters.badReplies, 1, 'an undecodable reply is counted and dropped');

  await t.rejects(
    dev.request('catchup-request', { type: 'catchup-request', correlationId: cid(2), chain: 'notification', fromHeight: 0, maxBlocks: 1 }, 200),
    { code: 'E_TIMEOUT' },
    'no reply: E_TIMEOUT',
  );
  await t.rejects(
    Promise.all([dev.request('ca-request', caRequest(3), 20_000), dev.request('ca-request', caRequest(3), 20_000)]),
    { code: 'E_STATE' },
    'two requests with one correlation id refused',
  );
  await r.online;
  t.match(
    r.statuses.find((s) => s.type === 'device-status'),
    { state: 'online', agentVersion: 'test' },
    'online status published',
  );

  // broker down: the device goes to reconnecting; up again (no stored session): resubscribed, requests work
  const down = once(dev, 'state', (s: string) => s === 'reconnecting');
  await r.gw.stop();
  await b.stop();
  await down;
  b = broker(b.port);
  await b.start();
  r = await responder(b.url, 'resp-2');
  await dev.whenConnected();
  t.equal(dev.counters.connects, 2, 'reconnected once');
  t.equal(dev.sessionPresent, false, 'the restarted broker had no session');
  t.match(await dev.request('ca-request', caRequest(5), 20_000), { type: 'error' }, 'reply subscription restored');
  await dev.stop();
  await t.rejects(dev.whenConnected(), { code: 'E_STOPPED' });
  t.throws(() => dev.publish('x', new Uint8Array(1)), BeepkitError);
});

t.test('a subscribe() made while the connect’s SUBSCRIBE is in flight is sent before the state turns connected', { timeout: 30_000 }, async (t) => {
  // a bare aedes whose first SUBACK is held until the test lets it go: the window in which the follower's
  // subscribe() used to be registered but never sent (state 'connecting', the connect's subscription list already out)
  const { Aedes } = await import('aedes');
  const { createServer } = await import('node:net');
  let held!: () => void;
  let reached!: () => void;
  const inFlight = new Promise<void>((r) => (reached = r));
  let first = true;
  const aedes = await Aedes.createBroker({
    authorizeSubscribe: (_c, sub, done) => {
      if (!first) return done(null, sub);
      first = false;
      held = () => done(null, sub);
      reached();
    },
  });
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });
  const dev = deviceMqtt(`mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, DEVICE, 4);
  t.teardown(() => dev.stop());
  const feed: Uint8Array[] = [];
  let heard!: () => void;
  const delivered = new Promise<void>((r) => (heard = r));
  await dev.subscribe(topics.reply(DEVICE), () => {});
  dev.start();
  await inFlight;
  t.equal(dev.state, 'connecting', 'the connect’s SUBSCRIBE is in flight');
  const late = dev.subscribe(topics.notificationFeed(), (_topic, p) => void (feed.push(p), heard()));
  held();
  await Promise.all([late, dev.whenConnected()]);
  await new Promise<void>((resolve, reject) =>
    aedes.publish({ cmd: 'publish', topic: topics.notificationFeed(), payload: Buffer.from([7]), qos: 1, retain: false, dup: false }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  await delivered;
  t.same(
    feed.map((p) => [...p]),
    [[7]],
    'the feed subscribed in the window is delivered',
  );
});
