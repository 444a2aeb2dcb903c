/**
 * Floods against the real gateway (child process, embedded broker): connection
 * floods and login guessing from one address. Loopback only.
 */
import t from 'tap';
import { GatewayMqtt } from '../src/mqtt.ts';
import { connectPacket, DEV1, DEVICES, MB, peakRss, Raw, startGateway } from './hostile-helpers.ts';

const mb = (n: number): string => (n / MB).toFixed(1);

t.test('connection flood: over the per-address rate, closed at accept', { timeout: 90_000 }, async (t) => {
  const gw = await startGateway(t, { limits: { connectionBurst: 100, connectionsPerSecond: 20 } });
  const socks: Raw[] = [];
  const t0 = performance.now();
  let elapsed = 0;
  const r = await peakRss(gw.rss, async () => {
    for (let i = 0; i < 1000; i++) socks.push(new Raw(gw.port));
    await Promise.all(socks.map((s) => Promise.race([s.closed, new Promise((res) => s.sock.once('connect', res))])));
    elapsed = (performance.now() - t0) / 1000;
    // the accepted ones idle without a CONNECT; the rest were closed at accept
    await new Promise((res) => setImmediate(res));
  });
  // the kernel completes a handshake before the gateway accepts it: on a loaded machine the gateway's accepts
  // (and its bucket's refill) run on after the last client 'connect', so the span is until its count settles
  let throttled = await gw.metric('beepkit_broker_connections_throttled_total');
  for (let prev = -1; throttled !== prev;) {
    prev = throttled;
    await new Promise((res) => setTimeout(res, 250));
    throttled = await gw.metric('beepkit_broker_connections_throttled_total');
  }
  const span = (performance.now() - t0) / 1000;
  const admitted = 100 + Math.ceil(20 * span) + 2; // the burst, the refill while flooding, rounding
  t.ok(
    throttled >= 1000 - admitted && throttled <= 900,
    `${throttled} of 1000 closed at accept (clients done in ${elapsed.toFixed(1)} s, counted within ${span.toFixed(1)} s; burst 100, 20/s)`,
  );
  t.ok(r.peak - r.before < 48 * MB, `1000 connections: RSS ${mb(r.before)} → peak ${mb(r.peak)} MB`);
  for (const s of socks) s.destroy();
  t.equal(await gw.health(), 200, 'the gateway stays healthy');
  t.comment(`connection flood: ${throttled} throttled, RSS ${mb(r.before)} → ${mb(r.peak)} MB`);
});

t.test('login guessing: after 10 failures the address backs off (CONNACK 3, no password check)', { timeout: 90_000 }, async (t) => {
  const gw = await startGateway(t, { limits: { loginFailuresFree: 10, loginBackoffMaxMs: 60_000, connectionBurst: 10_000 } });
  const codes: Record<number, number> = {};
  const connack = async (password: string): Promise<number> => {
    const raw = new Raw(gw.port);
    raw.sock.write(connectPacket({ clientId: DEV1, username: DEV1, password }));
    const c = await raw.connack();
    await raw.closed;
    return c;
  };
  // the right password from the backing-off address, tried just after the 13th failed check opened a 1 s back-off
  // (not after the loop: the last back-off may have ended by then, whatever the loop's speed)
  let during: number | undefined;
  const t0 = performance.now();
  const r = await peakRss(gw.rss, async () => {
    for (let i = 0; i < 500 || during === undefined; i++) {
      const c = await connack(`guess-${i}`);
      codes[c] = (codes[c] ?? 0) + 1;
      if (c === 4 && codes[4] === 13) during = await connack(DEVICES[DEV1]);
    }
  });
  const s = (performance.now() - t0) / 1000;
  const guesses = (codes[3] ?? 0) + (codes[4] ?? 0);
  t.ok((codes[4] ?? 0) >= 10 && (codes[4] ?? 0) <= 20, `${codes[4]} password checks (CONNACK 4) of ${guesses} guesses`);
  t.ok((codes[3] ?? 0) >= 480, `${codes[3]} refused while backing off (CONNACK 3)`);
  const probe = during === 3 ? 1 : 0;
  t.equal(await gw.metric('beepkit_broker_connect_refused_total', '{reason="login_backoff"}'), (codes[3] ?? 0) + probe, 'counted as login_backoff');
  // ...is refused too while the back-off lasts...
  t.equal(during, 3, 'the right password during the back-off: CONNACK 3');
  // ...and a device that retries (as agents do) gets in once it ends (here ≤ 2 s: 13 failures)
  const t1 = performance.now();
  const dev = new GatewayMqtt({
    url: `mqtt://127.0.0.1:${gw.port}`,
    clientId: DEV1,
    username: DEV1,
    password: DEVICES[DEV1],
    clean: true,
    backoff: { initialMs: 100, maxMs: 500 },
  });
  dev.on('error', () => {});
  await dev.start();
  t.equal(dev.state, 'connected', `the device got in after ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  await dev.stop();
  t.ok(r.peak - r.before < 48 * MB, `${guesses} guesses in ${s.toFixed(1)} s: RSS ${mb(r.before)} → peak ${mb(r.peak)} MB`);
  t.comment(`login guessing: codes ${JSON.stringify(codes)} in ${s.toFixed(1)} s`);
});
