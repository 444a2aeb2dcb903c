/**
 * The gateway as a child process for the HIL suites: `clock:` config and
 * `--clock-url` of `beepkit gateway run`, the scenario clocks, and
 * GatewayChild start → kill -9 → restart on the same data directory and
 * broker port, with the receipt observer reconnecting as the superuser.
 * Ports: kernel-chosen (port 0, or scripts/ports.ts freePort for the broker a restarted child must find again).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { ControlApiClock, clockFromSpec, resolveConfig } from '@beepkit/gateway/app';
import { BIN } from '../src/hil/context.ts';
import { GatewayChild, ReceiptObserver, clockSpecFor } from '../src/hil/gateway-child.ts';
import type { Rig } from '../src/rig/index.ts';
import { errorOf } from './hil-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';
import type { AddressInfo } from 'node:net';
import { closedPort, freePort } from '../../scripts/ports.ts';

const codeOf = errorOf;

t.test('clock: config is validated field by field', async (t) => {
  t.same(resolveConfig({ clock: { url: 'http://127.0.0.1:9/clock', pollMs: 100 } }).clock, { url: 'http://127.0.0.1:9/clock', pollMs: 100 });
  t.same(resolveConfig({ clock: { epochMs: 1000, wallMs: 2000, speed: 30 } }).clock, { epochMs: 1000, wallMs: 2000, speed: 30 });
  t.equal(resolveConfig({}).clock, undefined, 'absent: the host clock');
  t.same(resolveConfig({}, { BEEPKIT_GATEWAY_CLOCK__URL: 'http://localhost:7/clock' }).clock, { url: 'http://localhost:7/clock' }, 'env override');
  t.match(
    codeOf(() => resolveConfig({ clock: { url: 'http://example.com/clock' } })),
    /^E_CONFIG config clock\.url: must be a loopback/,
  );
  t.match(
    codeOf(() => resolveConfig({ clock: { epochMs: 1 } })),
    /^E_CONFIG config clock\.wallMs: must be an integer/,
  );
  t.match(
    codeOf(() => resolveConfig({ clock: { speed: 2, wallMs: 1, epochMs: 1, tz: 1 } })),
    /^E_CONFIG config clock\.tz: unknown field/,
  );
  t.match(
    codeOf(() => resolveConfig({ clock: 'sim' })),
    /^E_CONFIG config clock: must be/,
  );
});

t.test('scenario clocks: linear, and following a control API (paused is paused)', async (t) => {
  const lin = clockFromSpec({ epochMs: 1_000_000, wallMs: hostNow(), speed: 1000 })!;
  const a = lin.now();
  t.ok(a >= 1_000_000 && a < 1_000_000 + 60_000_000, 'linear: epoch + elapsed × speed');
  t.equal(clockFromSpec(undefined), undefined);
  let state = { now: 5_000_000, speed: 1, paused: true };
  const srv: Server = createServer((_req, res) => res.end(JSON.stringify(state)));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.teardown(() => srv.close());
  const c = new ControlApiClock(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/clock`, 50);
  await c.start();
  t.teardown(() => c.stop());
  t.equal(c.now(), 5_000_000, 'paused: the sim time exactly');
  state = { now: 9_000_000, speed: 2, paused: false };
  const until = hostNow() + 20_000;
  while (c.now() < 9_000_000 && hostNow() < until) await new Promise((r) => setTimeout(r, 20));
  t.ok(c.now() >= 9_000_000, 'follows the next poll');
  const nobody = `http://127.0.0.1:${await closedPort()}/clock`; // nothing listens there
  t.match(
    codeOf(() => clockFromSpec({ url: nobody })),
    'no error',
    'constructed lazily',
  );
  await t.rejects(new ControlApiClock(nobody).start(), { code: 'E_IO' }, 'an unreachable clock fails start()');
});

t.test('beepkit gateway run --clock-url refuses a non-loopback URL', async (t) => {
  const dir = t.testdir();
  const c = spawn(process.execPath, [BIN, 'gateway', 'run', '--clock-url', 'http://10.1.2.3/clock'], {
    env: { ...process.env, BEEPKIT_GATEWAY_DATA_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(c, 'exit')) as [number];
  t.equal(code, 2, 'exit 2');
  t.match(err, /E_CONFIG.*clock\.url/, 'names the field');
});

t.test('GatewayChild: ready, kill -9, restart in place; the observer reconnects', async (t) => {
  const dir = t.testdir();
  const rig = {
    kind: 'real',
    name: 't',
    clock: { startTime: 1_700_000_000_000, speed: 10, startedAtWallMs: hostNow() },
    fixedPositions: false,
    devices: [],
    venues: [],
  } as unknown as Rig;
  t.same(clockSpecFor(rig), { epochMs: 1_700_000_000_000, wallMs: rig.clock!.startedAtWallMs, speed: 10 }, 'a rig without control: linear clock');
  t.same(clockSpecFor({ ...rig, control: 'http://127.0.0.1:1' }), { url: 'http://127.0.0.1:1/clock', pollMs: 250 }, 'control API clock');
  const brokerPort = await freePort(); // fixed for this test: the restarted child listens there again
  const cfg = resolveConfig({
    dataDir: join(dir, 'gw'),
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port: 0 },
    broker: { password: 'observer-secret-1', embedded: { host: '127.0.0.1', port: brokerPort } },
  });
  const gw = new GatewayChild(cfg, rig, BIN);
  t.teardown(() => gw.kill());
  await gw.start();
  t.ok(gw.pid && gw.httpPort, 'ready with a pid and an HTTP port');
  t.equal(await gw.counter('beepkit_ingest_batches_total'), 0, 'no batch yet');
  const obs = new ReceiptObserver(`mqtt://127.0.0.1:${brokerPort}`, cfg.broker.username, 'observer-secret-1');
  await obs.start();
  t.teardown(() => obs.stop());
  const first = gw.pid;
  await gw.kill();
  t.notOk(gw.running, 'killed');
  await gw.start();
  t.not(gw.pid, first, 'a new process');
  await obs.connected(60_000);
  t.equal(obs.acknowledged.size, 0, 'nothing acknowledged without devices');
  await gw.stop();
  t.notOk(gw.running, 'stopped gracefully');
});
