/**
 * Who may use the carer page (agent/src/carer-page): the real Agent (carer enabled, no radio) with
 * the page in LAN mode on a kernel-chosen port. The carer token file (0600, 64 hex, kept; a group-
 * readable one refused), its constant-time check; the kit's certificate (key 0600, kept across
 * restarts, the names it is valid for) and the LAN server over TLS only, verified against that
 * certificate; the page's endpoints need the carer token (X-Carer-Token) and answer typed errors;
 * cross-origin and non-JSON requests refused; the carer token opens the page only, not the rest of
 * the local API; `beepkit agent carer token` prints the token and both addresses. And the page's
 * state words a wearable's alert with the injected clock and the page's time zone.
 */
import t, { type Test } from 'tap';
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { X509Certificate } from 'node:crypto';
import { Agent } from '../src/app/index.ts';
import { resolveConfig } from '../src/config/index.ts';
import { CarerAlertLog, CarerPage, carerTokenMatches, ensureCarerToken, ensureKitCertificate, KIT_CERT_FILE, KIT_KEY_FILE } from '../src/carer-page/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOW = Date.UTC(2026, 11, 3, 14, 0); // Thursday

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json?: any;
  body: string;
}

function request(mod: typeof http | typeof https, o: http.RequestOptions & https.RequestOptions, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: '127.0.0.1', agent: false, ...o }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function startAgent(t: Test, dataDir: string): Promise<Agent> {
  const cfg = resolveConfig(
    {
      dataDir,
      keystore: { passphrase: 'carer page' },
      log: { level: 'silent' },
      http: { port: 0 },
      carer: {
        enabled: true,
        autoSync: false,
        syncIntervalMs: 0,
        page: { lan: true, host: '127.0.0.1', port: 0, timeZone: 'Europe/Berlin', names: ['kit-7.local'] },
      },
    },
    {},
  );
  const agent = new Agent(cfg);
  await agent.start();
  t.teardown(() => agent.stop());
  return agent;
}

t.test('the carer token: private, kept, refused when others can read it, compared in constant time', async (t) => {
  const dir = t.testdir();
  const a = await ensureCarerToken(dir);
  t.match(a, /^[0-9a-f]{64}$/);
  t.equal(statSync(join(dir, 'carer-token')).mode & 0o777, 0o600);
  t.equal(await ensureCarerToken(dir), a, 'kept');
  chmodSync(join(dir, 'carer-token'), 0o644);
  await t.rejects(ensureCarerToken(dir), { code: 'E_PERMISSION' }, 'a token others can read is not used');
  writeFileSync(join(dir, 'carer-token'), 'not a token\n', { mode: 0o600 });
  chmodSync(join(dir, 'carer-token'), 0o600);
  await t.rejects(ensureCarerToken(dir), { code: 'E_FORMAT' });
  t.ok(carerTokenMatches(a, a));
  t.notOk(carerTokenMatches(a.slice(0, 63) + (a[63] === '0' ? '1' : '0'), a), 'one digit off');
  t.notOk(carerTokenMatches('', a));
  t.notOk(carerTokenMatches(undefined, a));
  t.notOk(carerTokenMatches(a + a, a), 'a longer value (hashed first: no length leak, no throw)');
});

t.test('LAN mode: TLS with the kit certificate, the carer token, typed errors, same-origin JSON only', async (t) => {
  const dir = t.testdir();
  const dataDir = join(dir, 'data');
  const agent = await startAgent(t, dataDir);
  const token = readFileSync(join(dataDir, 'carer-token'), 'utf8').trim();
  t.equal(statSync(join(dataDir, KIT_KEY_FILE)).mode & 0o777, 0o600, 'the TLS key is private');
  const cert = readFileSync(join(dataDir, KIT_CERT_FILE), 'utf8');
  const x = new X509Certificate(cert);
  t.match(x.subjectAltName, /DNS:localhost/);
  t.match(x.subjectAltName, /IP Address:127\.0\.0\.1/);
  t.match(x.subjectAltName, /DNS:kit-7\.local/, 'carer.page.names are in it');
  const port = agent.carerPage!.lan!.port;
  const tlsGet = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    request(https, { port, path, method, headers, ca: cert }, body);

  // the connection: TLS only, and only a client that trusts the kit's certificate gets through unwarned
  const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: cert }, () => {
      resolve(s.getPeerCertificate());
      s.end();
    });
    s.on('error', reject);
  });
  t.equal(peer.fingerprint256, x.fingerprint256, 'the server presents the kit certificate');
  await t.rejects(
    request(https, { port, path: '/carer/page/' }),
    { code: /SELF_SIGNED|UNABLE_TO_VERIFY/ },
    'a client that does not know the certificate is warned',
  );
  await t.rejects(request(http, { port, path: '/carer/page/', timeout: 5_000 }), 'no plain HTTP on the LAN port');

  // the page itself: no data in it, served without a token, framing and inline script refused
  t.match(await tlsGet('/'), { status: 308, headers: { location: '/carer/page/' } });
  const html = await tlsGet('/carer/page/');
  t.equal(html.status, 200);
  t.match(html.headers['content-type'], /text\/html/);
  t.match(html.headers['content-security-policy'], /frame-ancestors 'none'/);
  t.equal(html.headers['x-frame-options'], 'DENY');
  t.match(html.body, /<label for="wearable-code">/);
  t.equal((await tlsGet('/carer/page/carer.js')).status, 200);
  t.match(await tlsGet('/status'), { status: 404, json: { code: 'E_NOT_FOUND' } }, 'the rest of the local API is not on the LAN');
  t.match(await tlsGet('/carer/wearables'), { status: 404 }, 'nor its carer routes');

  // the endpoints: the carer token in X-Carer-Token
  t.match(await tlsGet('/carer/page/api/state'), { status: 401, json: { code: 'E_AUTH' } });
  t.match(await tlsGet('/carer/page/api/state', { 'x-carer-token': '0'.repeat(64) }), { status: 401, json: { code: 'E_TOKEN' } });
  t.match(
    await tlsGet('/carer/page/api/state', { authorization: `Bearer ${token}` }),
    { status: 401, json: { code: 'E_AUTH' } },
    'not as a bearer token (no ambient credentials either: no cookies)',
  );
  const auth = { 'x-carer-token': token };
  const json = { ...auth, 'content-type': 'application/json' };
  t.match(await tlsGet('/carer/page/api/state', auth), { status: 200, json: { pairing: 'idle', timeZone: 'Europe/Berlin', people: [], alerts: [] } });
  t.notOk((await tlsGet('/carer/page/api/state', auth)).headers['set-cookie'], 'no cookie is ever set');
  t.match(await tlsGet('/carer/page/api/confirm', json, 'POST', '{"code":"123456"}'), { status: 409, json: { code: 'E_STATE' } }, 'nothing to confirm');
  t.match(await tlsGet('/carer/page/api/confirm', json, 'POST', '{"code":"12"}'), { status: 400, json: { code: 'E_FORMAT' } });
  t.match(await tlsGet('/carer/page/api/confirm', json, 'POST', '{"code":"123456","extra":1}'), { status: 400, json: { code: 'E_FORMAT' } }, 'unknown fields');
  t.match(await tlsGet('/carer/page/api/confirm', json, 'POST', 'not json'), { status: 400, json: { code: 'E_FORMAT' } });
  t.match(await tlsGet('/carer/page/api/unpair', json, 'POST', '{"wearable":"Nobody"}'), { status: 404, json: { code: 'E_NOT_FOUND' } });
  t.match(await tlsGet('/carer/page/api/sync', json, 'POST', '{}'), { status: 404, json: { code: 'E_NOT_FOUND' } }, "only the page's routes");
  t.match(await tlsGet('/carer/page/api/cancel', json, 'POST', '{}'), { status: 200, json: { cancelled: false, pairing: 'idle' } });
  t.match(await tlsGet('/carer/page/api/cancel', auth, 'POST', '{}'), { status: 415, json: { code: 'E_MEDIA_TYPE' } });
  t.match(
    await tlsGet('/carer/page/api/cancel', { ...auth, 'content-type': 'text/plain' }, 'POST', '{}'),
    { status: 415, json: { code: 'E_MEDIA_TYPE' } },
    'a form-like POST',
  );
  t.match(await tlsGet('/carer/page/api/state', auth, 'POST', '{}'), { status: 415 }, 'POST checks the type first');
  t.match(
    await tlsGet('/carer/page/api/cancel', { ...json, origin: 'https://evil.example' }, 'POST', '{}'),
    { status: 403, json: { code: 'E_ORIGIN' } },
    'cross-origin, even with the token',
  );
  t.match(await tlsGet('/carer/page/api/cancel', { ...json, 'sec-fetch-site': 'cross-site' }, 'POST', '{}'), { status: 403, json: { code: 'E_ORIGIN' } });
  t.match(await tlsGet('/carer/page/api/cancel', { ...json, origin: `https://127.0.0.1:${port}` }, 'POST', '{}'), { status: 200 }, "the page's own origin");
  t.ok(agent.status().api!.refusals.E_TOKEN >= 1, "refusals counted with the local API's");

  // the loopback API: the page is there too; the carer token opens the page only
  const lp = agent.httpPort!;
  const lo = (path: string, headers: Record<string, string>) => request(http, { port: lp, path, headers: { host: `127.0.0.1:${lp}`, ...headers } });
  t.match(await lo('/carer/page/api/state', auth), { status: 200, json: { pairing: 'idle' } });
  t.match(await lo('/carer/page/api/state', { host: `evil.example:${lp}`, ...auth }), { status: 421, json: { code: 'E_HOST' } }, 'DNS rebinding still refused');
  t.match(await lo('/status', auth), { status: 401, json: { code: 'E_AUTH' } }, 'the carer token is not the API token');
  t.match(await lo('/status', { authorization: `Bearer ${token}` }), { status: 401, json: { code: 'E_TOKEN' } });

  // `beepkit agent carer token`: the token and both addresses, the certificate's fingerprint
  const cfgFile = join(dir, 'agent.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      dataDir,
      keystore: { passphrase: 'carer page' },
      http: { port: 0 },
      carer: { enabled: true, page: { lan: true, port: 9471, names: ['kit-7.local'] } },
    }),
  );
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bin', 'beepkit.js'), 'agent', 'carer', 'token', '--config', cfgFile], {
    timeout: 60_000,
  });
  const printed = JSON.parse(stdout);
  t.equal(printed.token, token);
  t.equal(printed.url, `http://127.0.0.1:${lp}/carer/page/#token=${token}`, "the running agent's port");
  t.match(printed.lan, { url: new RegExp(`^https://[^/]+\\.local:9471/carer/page/#token=${token}$`), fingerprint: x.fingerprint256 });

  // restarted: the same token and certificate
  await agent.stop();
  await startAgent(t, dataDir);
  t.equal(readFileSync(join(dataDir, KIT_CERT_FILE), 'utf8'), cert, 'the certificate is kept');
  t.equal((await ensureKitCertificate(dataDir)).fingerprint, x.fingerprint256);
  t.equal(readFileSync(join(dataDir, 'carer-token'), 'utf8').trim(), token, 'the token is kept');
});

t.test("the page's state words a wearable's alert with the injected clock and the page's zone", async (t) => {
  const dataDir = join(t.testdir(), 'data');
  const agent = await startAgent(t, dataDir);
  const log = new CarerAlertLog(() => NOW);
  const page = new CarerPage({ carer: agent.carer!, alerts: log, token: 'x'.repeat(64), now: () => NOW, timeZone: 'Europe/Berlin' });
  const day = Math.floor(NOW / 86_400_000) - 2;
  await log.deliver({
    kind: 'bluetooth',
    level: 'high',
    day,
    date: '2026-12-01',
    minutes: 26,
    explanation: '…',
    person: 'Grace',
    wearableId: 'a'.repeat(32),
  } as any);
  await log.deliver({ kind: 'fingerprint', level: 'low', day, date: '2026-12-01', explanation: "the agent's own" });
  t.match(await page.state(), {
    alerts: [
      {
        person: 'Grace',
        level: 'high',
        text: 'Grace was near someone who later tested positive, on Tuesday, for about 25 minutes. This is a high risk: please follow your local health guidance.',
      },
    ],
  });
  t.equal(log.list().length, 1, 'only alerts naming a person cared for');
  log.forget('a'.repeat(32));
  t.equal(log.list().length, 0);
});
