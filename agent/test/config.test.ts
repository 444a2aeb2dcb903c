/** Agent config: defaults, env overrides, one E_CONFIG per bad field, the example validates. */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, loadConfig, resolveConfig } from '../src/config/index.ts';

const here = dirname(fileURLToPath(import.meta.url));

t.test('defaults', async (t) => {
  const c = resolveConfig({}, {}, '/base');
  t.equal(c.dataDir, '/base/agent-data');
  t.equal(c.keystore.path, '/base/agent-data/keystore.bkks');
  t.equal(c.keystore.retentionDays, 14);
  t.equal(c.gnss.type, 'none');
  t.same(c.radio.dutyCycle, { windowMs: 4000, periodMs: 240000 });
  t.same(c.http, { host: '127.0.0.1', port: 9470, allowedHosts: [], requestTimeoutMs: 8000 });
  t.equal(c.upload.policy, 'immediate');
  t.equal(DEFAULT_CONFIG.dataDir, './agent-data', 'defaults not mutated');
});

t.test('env overrides', async (t) => {
  const c = resolveConfig(
    { http: { port: 1 } },
    {
      BEEPKIT_AGENT_HTTP__PORT: '27001',
      BEEPKIT_AGENT_DATA_DIR: '/srv/a',
      BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: '0123',
      BEEPKIT_AGENT_RADIO__DUTY_CYCLE: 'continuous',
      BEEPKIT_AGENT_GNSS__TYPE: 'gpsd',
      BEEPKIT_AGENT_TRUST__K: '3.5',
      OTHER: 'x',
    },
    '/base',
  );
  t.equal(c.http.port, 27001);
  t.equal(c.dataDir, '/srv/a');
  t.equal(c.keystore.passphrase, '0123', 'a passphrase stays a string');
  t.equal(c.radio.dutyCycle, 'continuous');
  t.equal(c.gnss.type, 'gpsd');
  t.equal(c.trust.k, 3.5);
});

t.test('each invalid field gives one E_CONFIG naming it', async (t) => {
  const cases: [unknown, string][] = [
    [{ dataDir: '' }, 'dataDir'],
    [{ deviceId: 'UPPER CASE' }, 'deviceId'],
    [{ nope: 1 }, 'nope'],
    [{ keystore: { retentionDays: 0 } }, 'keystore.retentionDays'],
    [{ keystore: { passphrase: 'a', keyFile: '/k' } }, 'keystore'],
    [{ gnss: { type: 'usb' } }, 'gnss.type'],
    [{ gnss: { type: 'serial' } }, 'gnss.path'],
    [{ gnss: { type: 'replay' } }, 'gnss.file'],
    [{ gnss: { port: 70000 } }, 'gnss.port'],
    [{ radio: { scanner: { uart: '' } } }, 'radio.scanner.uart'],
    [{ radio: { advertiser: { hciIndex: -1 } } }, 'radio.advertiser.hciIndex'],
    [{ radio: { scanner: { usb: 1 } } }, 'radio.scanner'],
    [{ radio: { dutyCycle: { windowMs: 10, periodMs: 5 } } }, 'radio.dutyCycle'],
    [{ radio: { dutyCycle: 'sometimes' } }, 'radio.dutyCycle'],
    [{ radio: { txPower: 50 } }, 'radio.txPower'],
    [{ venues: [{ id: 'xyz', key: '00'.repeat(32), lat: 0, lon: 0, radiusM: 5 }] }, 'venues[0].id'],
    [{ venues: [{ id: '00'.repeat(6), key: '00', lat: 0, lon: 0, radiusM: 5 }] }, 'venues[0].key'],
    [{ venues: [{ id: '00'.repeat(6), key: '00'.repeat(32), lat: 99, lon: 0, radiusM: 5 }] }, 'lat'],
    [{ trust: { k: 0 } }, 'trust.k'],
    [{ publisher: { intervalMs: 7 * 60_000 } }, 'publisher.intervalMs'],
    [{ publisher: { level: 'street' } }, 'publisher.level'],
    [{ upload: { policy: 'later' } }, 'upload.policy'],
    [{ broker: { url: 'http://x' } }, 'broker.url'],
    [{ alerts: { webhook: 'ftp://x' } }, 'alerts.webhook'],
    [{ http: { host: '0.0.0.0' } }, 'http.host'],
    [{ http: { port: 'x' } }, 'http.port'],
    [{ http: { allowedHosts: 'kit.local' } }, 'http.allowedHosts'],
    [{ feed: { proximity: 'yes' } }, 'feed.proximity'],
    [{ feed: { other: true } }, 'feed.other'],
    [{ http: { allowedHosts: ['kit.local', 'http://evil.example'] } }, 'http.allowedHosts[1]'],
    [{ http: { allowedHosts: ['*.local'] } }, 'http.allowedHosts[0]'],
    [{ http: { allowedHosts: ['Kit.Local'] } }, 'http.allowedHosts[0]'],
    [{ http: { allowedHosts: ['kit.local:70000'] } }, 'http.allowedHosts[0]'],
    [{ http: { allowedHosts: ['localhost'] } }, 'http.allowedHosts[0]'],
    [{ anchors: { shardPublicKeys: 'ab' } }, 'anchors.shardPublicKeys'],
    [{ anchors: { shardPublicKeys: ['a'.repeat(64), 'xyz'] } }, 'anchors.shardPublicKeys'],
    [{ http: { requestTimeoutMs: 0 } }, 'http.requestTimeoutMs'],
    [{ log: { level: 'loud' } }, 'log.level'],
    [{ carer: { page: { lan: 'yes' } } }, 'carer.page.lan'],
    [{ carer: { page: { port: 70000 } } }, 'carer.page.port'],
    [{ carer: { page: { timeZone: 'Mars/Olympus_Mons' } } }, 'carer.page.timeZone'],
    [{ carer: { page: { names: ['kit 7'] } } }, 'carer.page.names'],
    [{ carer: { page: { other: 1 } } }, 'carer.page.other'],
  ];
  for (const [doc, field] of cases) {
    let err: { code?: string; message?: string } | undefined;
    try {
      resolveConfig(doc, {});
    } catch (e) {
      err = e as typeof err;
    }
    t.equal(err?.code, 'E_CONFIG', `${field}: E_CONFIG`);
    t.match(err?.message ?? '', field, `${field} named in: ${err?.message}`);
  }
  t.same(
    resolveConfig({}, { BEEPKIT_AGENT_HTTP__ALLOWED_HOSTS: '[kit-7.local, "kit-7.local:8443"]' }).http.allowedHosts,
    ['kit-7.local', 'kit-7.local:8443'],
    'allowed hosts from the environment',
  );
  t.throws(() => resolveConfig({}, { BEEPKIT_AGENT_HTTP__PORT: 'abc' }), { code: 'E_CONFIG', message: /http\.port/ }, 'a bad env value names its field');
});

t.test('files: the example validates; unreadable and bad YAML are E_CONFIG', async (t) => {
  const c = loadConfig(join(here, '..', 'agent.example.yaml'), {});
  t.equal(c.gnss.type, 'serial');
  t.same(c.radio.advertiser, { hciIndex: 0 });
  t.equal(c.venues.length, 1);
  const dir = t.testdir();
  writeFileSync(join(dir, 'bad.yaml'), 'http: [\n');
  t.throws(() => loadConfig(join(dir, 'bad.yaml'), {}), { code: 'E_CONFIG', message: /not valid YAML/ });
  t.throws(() => loadConfig(join(dir, 'missing.yaml'), {}), { code: 'E_CONFIG', message: /cannot be read/ });
  writeFileSync(join(dir, 'rel.yaml'), 'dataDir: data\ngnss: { type: replay, file: drive.nmea }\n');
  const r = loadConfig(join(dir, 'rel.yaml'), {});
  t.equal(r.dataDir, join(dir, 'data'), 'relative to the file');
  t.equal(r.gnss.file, join(dir, 'drive.nmea'));
});
