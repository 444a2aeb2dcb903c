/** Scenario clocks for simulated trials: config validation, the linear mapping, and following a control API. */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveConfig } from '../src/config/index.ts';
import { ControlApiClock, LinearClock, clockFromConfig } from '../src/app/clock.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.test('config: clock is optional, validated', async (t) => {
  t.equal(resolveConfig({}).clock, undefined, 'host clock by default');
  t.same(resolveConfig({ clock: { url: 'http://127.0.0.1:30001/clock' } }).clock, { url: 'http://127.0.0.1:30001/clock' });
  t.same(resolveConfig({ clock: { epochMs: 5, wallMs: 7, speed: 30 } }).clock, { epochMs: 5, wallMs: 7, speed: 30 });
  t.throws(() => resolveConfig({ clock: { url: 'http://example.org/clock' } }), { code: 'E_CONFIG', message: /clock\.url/ });
  t.throws(() => resolveConfig({ clock: { speed: 3 } }), { code: 'E_CONFIG', message: /clock\.epochMs/ });
  t.throws(() => resolveConfig({ clock: { epochMs: 1, wallMs: 1, tick: 1 } }), { code: 'E_CONFIG', message: /clock\.tick/ });
  t.equal(clockFromConfig(undefined), undefined);
  t.ok(clockFromConfig({ epochMs: 0, wallMs: 0 }) instanceof LinearClock);
});

t.test('linear clock runs at speed from the epoch', async (t) => {
  const wall = hostNow();
  const c = new LinearClock(1_000_000, 30, wall - 1000);
  const n = c.now();
  t.ok(n >= 1_000_000 + 30_000 && n < 1_000_000 + 30_000 + 30 * 5000, `about 30 s after the epoch (${n - 1_000_000})`);
  t.equal(c.speed, 30);
});

t.test('control API clock: follows, pauses, and fails clearly without a sim', async (t) => {
  // A fake sim whose clock runs at `speed` while not paused, like the real control API.
  let state = { now: 5_000_000, speed: 10, paused: true };
  let since = hostNow();
  const clockNow = () => (state.paused ? state.now : state.now + (hostNow() - since) * state.speed);
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/clock' ? { ...state, now: clockNow() } : {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const c = new ControlApiClock(`http://127.0.0.1:${port}/clock`, 50);
  await c.start();
  t.teardown(() => c.stop());
  t.equal(c.now(), 5_000_000, 'paused: frozen');
  t.equal(c.speed, 10);
  state = { now: 6_000_000, speed: 10, paused: false };
  since = hostNow();
  const until = hostNow() + 10_000;
  while (c.now() < 6_000_000 && hostNow() < until) await new Promise((r) => setTimeout(r, 20));
  const a = c.now();
  t.ok(a >= 6_000_000, 'resumed: follows the sim');
  await new Promise((r) => setTimeout(r, 100));
  t.ok(c.now() > a, 'and advances between polls');
  const bad = new ControlApiClock(`http://127.0.0.1:${port}/nothing`, 50);
  await t.rejects(bad.start(), { code: 'E_IO' });
});
