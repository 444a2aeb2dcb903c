/** App: config validation (E_CONFIG naming the field), env overrides, /healthz and /metrics on the embedded broker. */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { loadConfig, resolveConfig } from '../src/app/config.ts';
import { Gateway } from '../src/app/gateway.ts';
import { tempDir } from './gw-fixtures.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.test('config validation', async (t) => {
  const bad: [unknown, string][] = [
    [{ http: { port: 70000 } }, 'http.port'],
    [{ broker: { url: 'http://x' } }, 'broker.url'],
    [{ broker: { connections: 4 } }, 'broker.connections'],
    [{ broker: { maxPending: 0 } }, 'broker.maxPending'],
    [{ nonsense: 1 }, 'nonsense'],
    [{ ingest: { intervalSeconds: 7 } }, 'ingest.intervalSeconds'],
    [{ ingest: { verifyWorkers: -1 } }, 'ingest.verifyWorkers'],
    [{ ingest: { verifyWorkers: 1.5 } }, 'ingest.verifyWorkers'],
    [{ log: { level: 'loud' } }, 'log.level'],
    [{ ca: { trustedBeacons: ['UPPER'] } }, 'ca.trustedBeacons'],
  ];
  for (const [doc, field] of bad) {
    t.throws(() => resolveConfig(doc), { code: 'E_CONFIG', message: new RegExp(field.replace('.', '\\.')) }, field);
  }
  const c = resolveConfig(
    { broker: { url: 'mqtts://broker.example:8883', connections: 8 } },
    { BEEPKIT_GATEWAY_HTTP__PORT: '9999', BEEPKIT_GATEWAY_DATA_DIR: '/var/lib/x' },
  );
  t.equal(c.http.port, 9999, 'env override (nested)');
  t.equal(c.dataDir, '/var/lib/x', 'env override (top level)');
  t.equal(c.broker.connections, 8);
  t.equal(resolveConfig().broker.url, undefined, 'no URL: embedded broker');
  t.equal(resolveConfig().ingest.verifyWorkers, undefined, 'verify workers: default (cores − 1)');
  t.equal(resolveConfig({ ingest: { verifyWorkers: 0 } }).ingest.verifyWorkers, 0, 'verify inline');
  const tmp = tempDir('app-cfg');
  t.teardown(tmp.remove);
  writeFileSync(`${tmp.dir}/g.yaml`, 'dataDir: data\nhttp: { port: [1, 2] }\n');
  t.throws(() => loadConfig(`${tmp.dir}/g.yaml`, {}), { code: 'E_CONFIG', message: /http\.port/ });
  writeFileSync(`${tmp.dir}/g.yaml`, 'dataDir: data\n');
  t.equal(loadConfig(`${tmp.dir}/g.yaml`, {}).dataDir, `${tmp.dir}/data`, 'relative to the config file');
  writeFileSync(`${tmp.dir}/g.yaml`, 'a: [\n');
  t.throws(() => loadConfig(`${tmp.dir}/g.yaml`, {}), { code: 'E_CONFIG' });
});

t.test('embedded broker, /healthz and /metrics', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('app');
  t.teardown(tmp.remove);
  const gw = new Gateway({
    now: hostNow,
    config: resolveConfig({ dataDir: tmp.dir, broker: { embedded: { port: 0 } }, http: { port: 0 }, log: { level: 'silent' } }),
  });
  await gw.start();
  t.match(gw.brokerUrl, /^mqtt:\/\/127\.0\.0\.1:[1-9]\d*$/, 'the embedded broker reports its kernel-chosen port');
  const http = `http://127.0.0.1:${gw.httpPort}`;
  const h = await fetch(`${http}/healthz`);
  t.equal(h.status, 200);
  t.match(await h.json(), { status: 'ok', mqtt: '1/1' });
  await gw.publishNotification([new TextEncoder().encode('x')]);
  const m = await (await fetch(`${http}/metrics`)).text();
  t.match(m, /beepkit_ledger_height\{chain="notification"\} 0/);
  t.match(m, /beepkit_ledger_height\{chain="tracing"\} -1/);
  t.match(m, /beepkit_ledger_commit_seconds_count 1/);
  t.match(m, /# TYPE beepkit_ca_refused_total counter/);
  t.equal((await fetch(`${http}/nope`)).status, 404);
  await gw.stop();
  await t.rejects(fetch(`${http}/healthz`), 'closed after stop');
});
