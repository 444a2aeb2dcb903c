/**
 * The shipped mosquitto files, as shipped: gateway/mosquitto/acl against the
 * protocol's DEVICE_ACL_PATTERNS, and beepkit.conf + acl on a real mosquitto
 * (only paths and ports rewritten) carrying a device through subscribe,
 * publish, feed and reply, with a device that tries the gateway's client id.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { DEVICE_ACL_PATTERNS, GATEWAY_ACL_TOPICS } from '@beepkit/protocol/wire';
import { generateTestPki, renderPasswordFile, waitForPort } from '../src/broker/index.ts';
import { GatewayMqtt } from '../src/mqtt.ts';
import { client, collect, CREDENTIALS, freePort, MOSQUITTO, PASSWORDS, tempDir } from './broker-helpers.ts';
import { missing } from '../../scripts/tools.ts';

const here = fileURLToPath(new URL('../mosquitto/', import.meta.url));
const conf = readFileSync(join(here, 'beepkit.conf'), 'utf8');
const acl = readFileSync(join(here, 'acl'), 'utf8');
const lines = (re: RegExp): string[] =>
  acl
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => re.test(l));

t.test('the shipped acl is DEVICE_ACL_PATTERNS, line for line, and the gateway block', async (t) => {
  t.same(
    lines(/^pattern /),
    DEVICE_ACL_PATTERNS.map((r) => `pattern ${r.access} ${r.topic}`),
    'device pattern lines = protocol DEVICE_ACL_PATTERNS',
  );
  t.ok(lines(/^pattern /).includes('pattern read beepkit/v1/feed/notification'), 'devices may read the notification feed');
  t.match(acl, /^user gateway\ntopic readwrite #$/m, 'the gateway user reads and writes all');
  t.ok(
    GATEWAY_ACL_TOPICS.every((r) => r.topic === 'beepkit/v1/#' || r.topic === '#'),
    'the gateway rules are covered by readwrite #',
  );
});

t.test('the shipped conf binds device client ids and caps packets', async (t) => {
  const device = conf.slice(conf.indexOf('listener 8883'));
  t.match(device, /^use_username_as_clientid true$/m, 'device listener: client id = username');
  t.match(conf, /^max_packet_size \d+$/m, 'packet cap');
  const max = Number(/^max_packet_size (\d+)$/m.exec(conf)![1]);
  t.ok(max >= (1 << 20) + 65_536, "above the gateway's largest reply (MAX_REPLY_BYTES)");
});

t.test(
  'shipped beepkit.conf + acl on real mosquitto: subscribe, publish, feed, reply; no takeover',
  { skip: missing('mosquitto'), timeout: 60_000 },
  async (t) => {
    const tmp = tempDir('shipped');
    t.teardown(tmp.remove);
    const pki = await generateTestPki(tmp.dir);
    const [plain, secure] = [await freePort(), await freePort()];
    const text =
      conf
        .replaceAll('/etc/mosquitto/beepkit/ca.crt', pki.caFile)
        .replaceAll('/etc/mosquitto/beepkit/server.crt', pki.certFile)
        .replaceAll('/etc/mosquitto/beepkit/server.key', pki.keyFile)
        .replaceAll('/etc/mosquitto/beepkit/', `${tmp.dir}/`)
        .replaceAll('/var/lib/mosquitto/', `${tmp.dir}/`)
        .replace('listener 1883 127.0.0.1', `listener ${plain} 127.0.0.1`)
        .replace('listener 8883', `listener ${secure} 127.0.0.1`) + `user ${os.userInfo().username}\nlog_dest file ${tmp.dir}/log\n`;
    writeFileSync(join(tmp.dir, 'beepkit.conf'), text, { mode: 0o600 });
    writeFileSync(join(tmp.dir, 'acl'), acl, { mode: 0o600 });
    writeFileSync(join(tmp.dir, 'passwd'), renderPasswordFile(CREDENTIALS), { mode: 0o600 });
    const child = spawn(MOSQUITTO!, ['-c', join(tmp.dir, 'beepkit.conf')], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    t.teardown(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    await waitForPort(plain, 15_000, () => child.exitCode === null);
    await waitForPort(secure, 15_000, () => child.exitCode === null);
    const ca = readFileSync(pki.caFile);

    const gw = client(`mqtt://127.0.0.1:${plain}`, 'gateway', 'beepkit-gateway-0');
    const up = collect(gw);
    await gw.start();
    t.teardown(() => gw.stop());
    await gw.subscribe('beepkit/v1/dev/+/up/+', 1);

    const dev = new GatewayMqtt({
      url: `mqtts://127.0.0.1:${secure}`,
      clientId: 'dev1',
      username: 'dev1',
      password: PASSWORDS.dev1,
      ca,
      clean: false,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    dev.on('error', () => {});
    const inbox = collect(dev);
    await dev.start();
    t.teardown(() => dev.stop());
    await dev.subscribe('beepkit/v1/dev/dev1/reply', 1);
    await dev.subscribe('beepkit/v1/feed/notification', 1);
    await dev.subscribe('beepkit/v1/dev/dev2/reply', 1); // granted, but nothing of dev2's is delivered

    await dev.publish('beepkit/v1/dev/dev1/up/batch', 'batch-1');
    await up.waitFor((g) => g.some((m) => m.payload === 'batch-1'));
    await gw.publish('beepkit/v1/dev/dev2/reply', 'not-yours');
    await gw.publish('beepkit/v1/feed/notification', 'block-0');
    await gw.publish('beepkit/v1/dev/dev1/reply', 'receipt-1');
    await inbox.waitFor((g) => g.length >= 2);
    t.same(inbox.got.map((m) => m.payload).sort(), ['block-0', 'receipt-1'], 'the device gets its reply AND the feed block, nothing of dev2');

    // takeover attempt: a device with valid credentials and the gateway's client id, persistent session
    const thief = new GatewayMqtt({
      url: `mqtts://127.0.0.1:${secure}`,
      clientId: 'beepkit-gateway-0',
      username: 'dev2',
      password: PASSWORDS.dev2,
      ca,
      clean: false,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    thief.on('error', () => {});
    const stolen = collect(thief);
    await thief.start();
    t.teardown(() => thief.stop());
    await thief.subscribe('beepkit/v1/dev/+/up/+', 1);
    await dev.publish('beepkit/v1/dev/dev1/up/batch', 'batch-2');
    await up.waitFor((g) => g.some((m) => m.payload === 'batch-2'));
    t.equal(gw.state, 'connected', 'the gateway keeps its session');
    t.equal(gw.counters.disconnects, 0, 'the gateway was never disconnected');
    t.same(stolen.got, [], 'the thief (renamed to its username) receives no uplinks');
    const log = readFileSync(join(tmp.dir, 'log'), 'utf8');
    t.notMatch(log, /Client beepkit-gateway-0 already connected/, 'mosquitto never closed the gateway for a new client');
    t.match(log, /as dev2 \(/, 'the thief is logged under its username');
  },
);
