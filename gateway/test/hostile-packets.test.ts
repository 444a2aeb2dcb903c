/**
 * Hostile packets against the real gateway (child process, embedded broker):
 * oversized and pre-auth packets, retained floods, a reader that stalls, a
 * writer that floods. Each probe: its refusal, and the gateway's RSS bound.
 */
import t from 'tap';
import { DEVICE_MAX_PACKET_BYTES, MAX_LEGIT_DEVICE_PACKET } from '../src/broker/index.ts';
import { GatewayMqtt } from '../src/mqtt.ts';
import { connectPacket, DEV1, DEVICES, GW_PASSWORD, headerOnly, MB, peakRss, publishHeader, Raw, startGateway } from './hostile-helpers.ts';

const RSS_BOUND = 48 * MB;
const mb = (n: number): string => (n / MB).toFixed(1);

function device(port: number, clientId = DEV1): GatewayMqtt {
  const d = new GatewayMqtt({ url: `mqtt://127.0.0.1:${port}`, clientId, username: DEV1, password: DEVICES[DEV1], clean: true, maxInflight: 100 });
  d.on('error', () => {});
  return d;
}

async function authed(port: number, clientId: string): Promise<Raw> {
  const raw = new Raw(port);
  raw.sock.write(connectPacket({ clientId, username: DEV1, password: DEVICES[DEV1] }));
  if ((await raw.connack()) !== 0) throw new Error('device login failed');
  return raw;
}

t.test('the device packet cap is sized from the protocol', async (t) => {
  t.ok(
    MAX_LEGIT_DEVICE_PACKET > 360_000 && MAX_LEGIT_DEVICE_PACKET < 370_000,
    `largest legitimate device packet ${MAX_LEGIT_DEVICE_PACKET} B (a 4096-record day batch)`,
  );
  t.equal(DEVICE_MAX_PACKET_BYTES, 448 * 1024, 'cap: +25 % rounded up to 64 KiB = 448 KiB');
});

t.test('oversized and pre-auth packets are dropped before they are buffered', { timeout: 120_000 }, async (t) => {
  const gw = await startGateway(t, { limits: { maxBytesPerSecond: 64 * MB } });
  const base = gw.rss();

  // 1. authenticated device announces a 200 MB PUBLISH and streams 16 MB of it
  const big = await peakRss(gw.rss, async () => {
    const raw = await authed(gw.port, DEV1);
    raw.sock.write(publishHeader(`beepkit/v1/dev/${DEV1}/up/batch`, 200 * MB));
    const sent = await raw.stream(16 * MB);
    await raw.closed;
    t.ok(sent < 16 * MB, `closed after ${mb(sent)} MB of the announced 200 MB`);
  });
  t.equal(await gw.metric('beepkit_broker_guard_closed_total', '{reason="packet-size"}'), 1, 'counted: packet-size');
  t.ok(big.peak - base < RSS_BOUND, `200 MB PUBLISH: RSS ${mb(base)} → peak ${mb(big.peak)} MB (bound +${mb(RSS_BOUND)}; 708 MB before)`);

  // 2. just over the cap: refused; the largest legitimate size: accepted (the ingest answers E_* on the reply topic)
  const over = await authed(gw.port, `${DEV1}:over`);
  over.sock.write(publishHeader(`beepkit/v1/dev/${DEV1}/up/batch`, DEVICE_MAX_PACKET_BYTES));
  await over.closed;
  t.equal(await gw.metric('beepkit_broker_guard_closed_total', '{reason="packet-size"}'), 2, 'a packet over 448 KiB: closed');
  const dev = device(gw.port);
  await dev.start();
  await dev.publish(`beepkit/v1/dev/${DEV1}/up/batch`, Buffer.alloc(MAX_LEGIT_DEVICE_PACKET - 200, 7));
  t.equal(dev.state, 'connected', `a ${MAX_LEGIT_DEVICE_PACKET - 200} B upload passes (PUBACKed)`);
  await dev.stop();

  // 3. four unauthenticated CONNECTs announcing 200 MB, streaming 16 MB each
  const pre = await peakRss(gw.rss, async () => {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const raw = new Raw(gw.port);
        raw.sock.write(headerOnly(1, 200 * MB));
        const sent = await raw.stream(16 * MB);
        await raw.closed;
        return sent;
      }),
    );
  });
  t.equal(await gw.metric('beepkit_broker_guard_closed_total', '{reason="packet-size"}'), 6, 'four pre-auth 200 MB CONNECTs closed at their header');
  t.ok(pre.peak - base < RSS_BOUND, `4 × 200 MB pre-auth CONNECT: RSS peak ${mb(pre.peak)} MB (898 MB before)`);

  // 4. a first packet that is not a CONNECT; pipelining past the pre-auth budget
  const notConnect = new Raw(gw.port);
  notConnect.sock.write(publishHeader('x', 10));
  await notConnect.closed;
  t.equal(await gw.metric('beepkit_broker_guard_closed_total', '{reason="not-connect"}'), 1, 'first packet not CONNECT: closed');
  const pipelined = new Raw(gw.port);
  pipelined.sock.write(connectPacket({ clientId: DEV1, username: DEV1, password: 'wrong-but-slow-to-check' }));
  for (let i = 0; i < 4; i++) pipelined.sock.write(Buffer.concat([publishHeader('x', 4000), Buffer.alloc(4000)]));
  await pipelined.closed;
  t.ok(
    (await gw.metric('beepkit_broker_guard_closed_total', '{reason="preauth-bytes"}')) +
      (await gw.metric('beepkit_broker_connect_refused_total', '{reason="bad_credentials"}')) >=
      1,
    'pipelined bytes before CONNACK: bounded (closed)',
  );
  t.equal(await gw.health(), 200, 'the gateway is healthy throughout');
  t.comment(`RSS: base ${mb(base)} MB, 200 MB PUBLISH peak ${mb(big.peak)}, 4 × pre-auth peak ${mb(pre.peak)}`);
});

t.test('retained floods are refused; a small own status is kept', { timeout: 120_000 }, async (t) => {
  const gw = await startGateway(t);
  const dev = device(gw.port);
  await dev.start();
  t.teardown(() => dev.stop());
  const base = gw.rss();
  const r = await peakRss(gw.rss, async () => {
    for (let i = 0; i < 10; i++) await dev.publish(`beepkit/v1/dev/${DEV1}/status`, Buffer.alloc(400_000, i), { retain: true });
    for (let i = 0; i < 10; i++) await dev.publish(`beepkit/v1/dev/${DEV1}/up/batch`, Buffer.alloc(400_000, i), { retain: true });
    await dev.publish(`beepkit/v1/dev/${DEV1}/status`, Buffer.alloc(200, 1), { retain: true });
  });
  t.equal(await gw.metric('beepkit_broker_retained_refused_total'), 20, '20 retained floods refused (PUBACKed, dropped)');
  // devices may not read status topics: the observer is the gateway user (a superuser)
  const late = new GatewayMqtt({ url: `mqtt://127.0.0.1:${gw.port}`, clientId: 'observer', username: 'gateway', password: GW_PASSWORD, clean: true });
  late.on('error', () => {});
  const got: number[] = [];
  const first = new Promise<void>((resolve) =>
    late.onMessage((_topic, payload, ack) => {
      ack(true);
      got.push(payload.length);
      resolve();
    }),
  );
  await late.start();
  t.teardown(() => late.stop());
  await late.subscribe(`beepkit/v1/dev/${DEV1}/status`, 1);
  await first;
  t.same(got, [200], 'a later subscriber gets only the small retained status');
  t.ok(r.after - base < RSS_BOUND, `8 MB of retained attempts: RSS ${mb(base)} → ${mb(r.after)} MB after (447 MB kept before)`);
  t.comment(`retained flood: RSS base ${mb(base)}, peak ${mb(r.peak)}, after ${mb(r.after)} MB`);
});

t.test('a device that stops reading is cut off; one that floods is slowed', { timeout: 120_000 }, async (t) => {
  const gw = await startGateway(t, { limits: { maxQueuedBytes: 1 * MB, maxBytesPerSecond: 4 * MB } });
  const base = gw.rss();
  // subscribe to its own carer-alert topic, publish to it, never read: the broker's copies pile up for it
  const r = await peakRss(gw.rss, async () => {
    const raw = await authed(gw.port, DEV1);
    const topic = `beepkit/v1/carer/${DEV1}/alert`;
    const sub = Buffer.from(topic);
    raw.sock.write(Buffer.concat([Buffer.from([0x82, 2 + 2 + sub.length + 1, 0, 1, 0, sub.length]), sub, Buffer.from([0])]));
    raw.sock.pause();
    const t0 = performance.now();
    for (let i = 0; i < 64 && !raw.isClosed; i++) {
      const ok = raw.sock.write(Buffer.concat([publishHeader(topic, 256 * 1024), Buffer.alloc(256 * 1024, i)]));
      if (!ok) await Promise.race([new Promise((res) => raw.sock.once('drain', res)), raw.closed]);
    }
    await raw.closed;
    t.comment(`stalled reader closed after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
  t.equal(await gw.metric('beepkit_broker_guard_closed_total', '{reason="send-queue"}'), 1, 'closed: send-queue over 1 MiB');
  t.ok(r.peak - base < RSS_BOUND, `stalled reader: RSS peak ${mb(r.peak)} MB`);

  // a flood of 12 MiB at 4 MiB/s (burst 1 MiB) takes ≥ 2.5 s
  const dev = device(gw.port);
  await dev.start();
  t.teardown(() => dev.stop());
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 48 }, (_, i) => dev.publish(`beepkit/v1/dev/${DEV1}/status`, Buffer.alloc(256 * 1024, i), { qos: 0 })));
  await dev.publish(`beepkit/v1/dev/${DEV1}/status`, 'last', { qos: 1 });
  const s = (performance.now() - t0) / 1000;
  t.ok(s >= 2.5, `12 MiB inbound took ${s.toFixed(1)} s (≥ 2.5 s at 4 MiB/s)`);
  t.equal(dev.state, 'connected', 'slowed, not disconnected');
});

t.test('an offline persistent session queues at most maxOfflineMessages', { timeout: 120_000 }, async (t) => {
  const gw = await startGateway(t, { limits: { maxOfflineMessages: 10 } });
  const away = new GatewayMqtt({ url: `mqtt://127.0.0.1:${gw.port}`, clientId: DEV1, username: DEV1, password: DEVICES[DEV1], clean: false });
  away.on('error', () => {});
  await away.start();
  await away.subscribe(`beepkit/v1/dev/${DEV1}/reply`, 1);
  await away.stop();
  const pub = new GatewayMqtt({ url: `mqtt://127.0.0.1:${gw.port}`, clientId: 'flooder', username: 'gateway', password: GW_PASSWORD, clean: true });
  pub.on('error', () => {});
  await pub.start();
  t.teardown(() => pub.stop());
  const r = await peakRss(gw.rss, async () => {
    for (let i = 0; i < 200; i++) await pub.publish(`beepkit/v1/dev/${DEV1}/reply`, Buffer.alloc(50_000, i), { qos: 1 });
  });
  t.equal(await gw.metric('beepkit_broker_offline_dropped_total'), 190, '190 of 200 not queued for the offline device');
  const back = new GatewayMqtt({ url: `mqtt://127.0.0.1:${gw.port}`, clientId: DEV1, username: DEV1, password: DEVICES[DEV1], clean: false });
  back.on('error', () => {});
  let n = 0;
  let tenth!: () => void;
  let live!: () => void;
  const ten = new Promise<void>((res) => (tenth = res));
  const again = new Promise<void>((res) => (live = res));
  // one handler from the start: the live message may reach `back` before `pub` has its PUBACK
  back.onMessage((_topic, payload, ack) => {
    ack(true);
    if (payload.toString() === 'online again') return live();
    if (++n === 10) tenth();
  });
  await back.start();
  t.teardown(() => back.stop());
  await ten;
  await pub.publish(`beepkit/v1/dev/${DEV1}/reply`, 'online again', { qos: 1 });
  await again;
  t.equal(n, 10, 'the returning device got the 10 queued, then live messages again');
  t.ok(r.peak - r.before < RSS_BOUND, `10 MB for an offline session: RSS ${mb(r.before)} → peak ${mb(r.peak)} MB`);
  t.comment(`offline queue: RSS ${mb(r.before)} → ${mb(r.peak)} MB`);
});
