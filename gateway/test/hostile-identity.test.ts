/**
 * Hostile clients against the real gateway (child process, embedded broker):
 * client-id takeover, identifiers made to flood the log, and the TLS listener.
 * Loopback only; every probe has its refusal code and a bound.
 */
import t from 'tap';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { generateTestPki } from '../src/broker/index.ts';
import { GatewayMqtt } from '../src/mqtt.ts';
import { tempDir } from './broker-helpers.ts';
import { connectPacket, DEV1, DEV2, DEVICES, GW_PASSWORD, MB, peakRss, Raw, startGateway, type GatewayChild } from './hostile-helpers.ts';

t.test("takeover: a device may not take the gateway's (or anyone else's) client id", { timeout: 90_000 }, async (t) => {
  const gw = await startGateway(t);
  t.equal(await gw.health(), 200, 'healthy at start');
  const rss = await peakRss(gw.rss, async () => {
    for (const clientId of ['beepkit-gateway', 'beepkit-gateway-0', DEV2, `${DEV2}:x`, 'somebody-else', `${DEV1}x`, `${DEV1}:bad/suffix`]) {
      const raw = new Raw(gw.port);
      raw.sock.write(connectPacket({ clientId, username: DEV1, password: DEVICES[DEV1], clean: false }));
      t.equal(await raw.connack(), 2, `CONNACK 2 (identifier rejected) for ${JSON.stringify(clientId)}`);
      await raw.closed;
    }
  });
  t.equal(await gw.metric('beepkit_broker_connect_refused_total', '{reason="client_id"}'), 7, 'counted as client_id refusals');
  t.equal(await gw.health(), 200, 'the gateway kept its connection');
  t.equal(await gw.metric('beepkit_mqtt_connection_lost_total'), 0, 'never disconnected');
  t.equal(await gw.metric('beepkit_mqtt_takeover_alarm'), 0, 'no alarm');
  // what agents do (client id = username) and a second session of the same device still work
  for (const clientId of [DEV1, `${DEV1}:ui`]) {
    const dev = new GatewayMqtt({ url: `mqtt://127.0.0.1:${gw.port}`, clientId, username: DEV1, password: DEVICES[DEV1], clean: false });
    dev.on('error', () => {});
    await dev.start();
    t.equal(dev.state, 'connected', `${clientId} connects`);
    await dev.stop();
  }
  t.ok(rss.peak - rss.before < 32 * MB, `RSS +${((rss.peak - rss.before) / MB).toFixed(1)} MB (bound 32 MB)`);
  t.comment(`takeover probe: RSS ${(rss.before / MB).toFixed(0)} → peak ${(rss.peak / MB).toFixed(0)} MB`);
});

t.test('log flooding: long and binary identifiers cost a bounded log', { timeout: 90_000 }, async (t) => {
  const gw = await startGateway(t);
  const before = gw.logBytes();
  // 65 000-character ids do not fit the pre-auth budget: closed by the guard before they are parsed or logged
  for (let i = 0; i < 50; i++) {
    const raw = new Raw(gw.port);
    raw.sock.write(connectPacket({ clientId: 'x'.repeat(65_000), username: DEV1, password: 'wrong' }));
    if ((await raw.connack()) !== -1) t.fail('an oversized CONNECT got a CONNACK');
    await raw.closed;
  }
  t.equal(await gw.metric('beepkit_broker_guard_closed_total', '{reason="packet-size"}'), 50, '50 oversized CONNECTs closed by the guard');
  // ids that fit (4 000 chars, with control characters) and a wrong password: refused and logged, truncated and escaped
  for (let i = 0; i < 8; i++) {
    const raw = new Raw(gw.port);
    raw.sock.write(connectPacket({ clientId: `\u001b[2J${'y'.repeat(4000)}`, username: `${'\n'.repeat(3)}${'u'.repeat(3000)}`, password: 'wrong' }));
    t.equal(await raw.connack(), 4, 'CONNACK 4 (bad username or password)');
    await raw.closed;
  }
  const lines = await gw.logLines('bad username or password', 8);
  const logged = gw.logBytes() - before;
  t.ok(logged < 16 * 1024, `${logged} B of log for 58 hostile connects (bound 16 KiB; 6.5 MB before)`);
  t.equal(lines.length, 8, 'each refusal logged once');
  t.ok(
    lines.every((l) => l.length < 600 && !l.includes('\u001b') && l.includes('\\\\u001b') && l.includes('…(+')),
    'ids truncated to 64 characters, control characters escaped',
  );
});

t.test('TLS listener: TLS 1.2+ with the configured certificate; older versions refused', { timeout: 90_000 }, async (t) => {
  const tmp = tempDir('hostile-tls');
  t.teardown(tmp.remove);
  const pki = await generateTestPki(tmp.dir);
  const gw = await startGateway(t, { tls: { port: 0, certFile: pki.certFile, keyFile: pki.keyFile } });
  t.ok(gw.tlsPort, 'the ready line names the TLS listener');
  const ca = readFileSync(pki.caFile);
  const dev = new GatewayMqtt({ url: `mqtts://127.0.0.1:${gw.tlsPort}`, clientId: DEV1, username: DEV1, password: DEVICES[DEV1], ca, clean: true });
  dev.on('error', () => {});
  await dev.start();
  t.equal(dev.state, 'connected', 'a device connects over TLS, verifying the server certificate');
  await dev.publish(`beepkit/v1/dev/${DEV1}/status`, 'x');
  await dev.stop();
  const tls11 = await new Promise<string>((resolve) => {
    const s = tls.connect({ port: gw.tlsPort!, host: '127.0.0.1', ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', servername: 'localhost' });
    s.once('secureConnect', () => resolve(`connected with ${s.getProtocol()}`));
    s.once('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
  });
  t.notMatch(tls11, /^connected/, `TLS 1.1 refused (${tls11})`);
  const v = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ port: gw.tlsPort!, host: '127.0.0.1', ca, servername: 'localhost' }, () => {
      resolve(String(s.getProtocol()));
      s.destroy();
    });
    s.once('error', reject);
  });
  t.match(v, /^TLSv1\.[23]$/, `negotiated ${v}`);
});

/** Polls a metric until `pred` holds (bounded: 200 × 50 ms). */
async function until(gw: GatewayChild, name: string, pred: (v: number) => boolean, labels = ''): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const v = await gw.metric(name, labels);
    if (pred(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return gw.metric(name, labels);
}

t.test('a session takeover that gets through (stolen gateway credentials) is detected, logged and alarmed', { timeout: 90_000 }, async (t) => {
  const gw = await startGateway(t);
  t.equal(await gw.metric('beepkit_mqtt_takeover_alarm'), 0, 'no alarm at start');
  const raw = new Raw(gw.port);
  raw.sock.write(connectPacket({ clientId: 'beepkit-gateway', username: 'gateway', password: GW_PASSWORD, clean: false }));
  t.equal(await raw.connack(), 0, 'a superuser may use the gateway id (only devices are bound)');
  t.ok((await until(gw, 'beepkit_mqtt_connection_lost_total', (v) => v >= 1)) >= 1, 'the gateway saw its connection lost');
  t.ok((await gw.metric('beepkit_broker_superuser_takeovers_total')) >= 1, 'the broker counted the takeover');
  t.equal(await gw.metric('beepkit_mqtt_takeover_alarm'), 1, 'alarm raised');
  t.ok((await gw.logLines('superuser session taken over', 1)).length >= 1, 'the broker logged the takeover');
  t.ok((await gw.logLines('gateway MQTT connection closed by the broker', 1)).length >= 1, 'the gateway logged its loss');
  raw.destroy();
  t.equal(await until(gw, 'beepkit_mqtt_connections_up', (v) => v === 1), 1, 'and reconnected');
});
