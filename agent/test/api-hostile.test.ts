/**
 * The agent's local API against hostile clients (issue 20): the real Agent
 * (carer enabled, no radio) on a kernel-chosen port, probed with raw HTTP the
 * way a web page (CSRF), a DNS-rebinding page and a slow-loris client would:
 * foreign Host → 421 E_HOST, cross-origin → 403 E_ORIGIN, no or wrong token →
 * 401 E_AUTH / E_TOKEN, text/plain → 415 E_MEDIA_TYPE, bad inputs → 400
 * E_FORMAT at once, HEAD like GET without a body, a half-sent request closed
 * after http.requestTimeoutMs; the CLI finds and sends the token itself.
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '../src/app/index.ts';
import { resolveConfig } from '../src/config/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TIMEOUT_MS = 600;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json?: any;
}

/** One raw request (any Host, Origin, type); resolves with the reply. */
function raw(port: number, o: { method?: string; path: string; headers?: Record<string, string>; body?: string; setHost?: boolean }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers, agent: false, setHost: o.setHost ?? true },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = body ? JSON.parse(body) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

async function startAgent(t: Test, dir: string): Promise<{ agent: Agent; port: number; token: string }> {
  const cfg = resolveConfig(
    {
      dataDir: join(dir, 'data'),
      keystore: { passphrase: 'hostile clients' },
      log: { level: 'silent' },
      http: { port: 0, allowedHosts: ['kit-7.local'], requestTimeoutMs: TIMEOUT_MS },
      carer: { enabled: true, autoSync: false, syncIntervalMs: 0 },
    },
    {},
  );
  const agent = new Agent(cfg);
  await agent.start();
  t.teardown(() => agent.stop());
  return { agent, port: agent.httpPort!, token: readFileSync(join(dir, 'data', 'api-token'), 'utf8').trim() };
}

t.test('the local API drives only for its owner', async (t) => {
  const dir = t.testdir();
  const { port, token } = await startAgent(t, dir);
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const tokenFile = join(dir, 'data', 'api-token');
  t.equal(statSync(tokenFile).mode & 0o777, 0o600, 'the token file is private');
  t.match(readFileSync(tokenFile, 'utf8'), /^[0-9a-f]{64}\n$/, '256 random bits, hex');

  // CSRF: a page posting a "simple" cross-origin request (text/plain, no preflight), from the carer's browser
  const csrf = await raw(port, {
    method: 'POST',
    path: '/carer/unpair',
    headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
    body: '{"wearable":"Grace"}',
  });
  t.match(csrf, { status: 403, json: { code: 'E_ORIGIN' } }, 'cross-origin text/plain POST refused');
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: { ...json, origin: 'http://evil.example' }, body: '{}' }),
    { status: 403, json: { code: 'E_ORIGIN' } },
    'even with the token',
  );
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: { ...json, origin: 'null' }, body: '{}' }),
    { status: 403, json: { code: 'E_ORIGIN' } },
    'an opaque origin (sandboxed page, file:)',
  );
  t.match(
    await raw(port, {
      method: 'POST',
      path: '/carer/cancel',
      headers: { ...json, origin: `http://localhost:${port + 1 === 65536 ? 1 : port + 1}` },
      body: '{}',
    }),
    { status: 403, json: { code: 'E_ORIGIN' } },
    'another port on localhost is another origin',
  );
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: { ...json, 'sec-fetch-site': 'cross-site' }, body: '{}' }),
    { status: 403, json: { code: 'E_ORIGIN' } },
    'Sec-Fetch-Site: cross-site',
  );
  t.match(
    await raw(port, { method: 'POST', path: '/carer/unpair', headers: { ...auth, 'content-type': 'text/plain' }, body: '{"wearable":"Grace"}' }),
    { status: 415, json: { code: 'E_MEDIA_TYPE' } },
    'text/plain refused even with the token',
  );
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: auth, body: '{}' }),
    { status: 415, json: { code: 'E_MEDIA_TYPE' } },
    'no content type refused',
  );

  // DNS rebinding: evil.example resolves to 127.0.0.1, the browser still sends its own name
  for (const host of [
    `evil.example:${port}`,
    'evil.example',
    `localhost.:${port}`,
    `localhost:${port + 1 === 65536 ? 1 : port + 1}`,
    `127.0.0.2:${port}`,
    `kit-7.local:${port + 1 === 65536 ? 1 : port + 1}`,
  ]) {
    t.match(await raw(port, { path: '/carer/wearables', headers: { ...auth, host } }), { status: 421, json: { code: 'E_HOST' } }, `Host ${host} refused`);
  }
  t.match(
    await raw(port, { path: '/healthz', headers: { host: `evil.example:${port}` } }),
    { status: 421, json: { code: 'E_HOST' } },
    'also on the open endpoints',
  );
  t.match(await raw(port, { path: '/healthz', setHost: false, headers: {} }), { status: 400 }, 'no Host at all (HTTP/1.1) refused by the parser');
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `kit-7.local:${port}`, 'kit-7.local', `KIT-7.local:${port}`]) {
    t.match(await raw(port, { path: '/healthz', headers: { host } }), { status: 200, json: { status: 'ok' } }, `Host ${host} served`);
  }
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: { ...json, origin: `http://127.0.0.1:${port}` }, body: '{}' }),
    { status: 200 },
    'a same-origin page of the API itself is served',
  );
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: { ...json, host: 'kit-7.local', origin: 'https://kit-7.local' }, body: '{}' }),
    { status: 200 },
    'the configured name behind a TLS proxy',
  );

  // the token: everything but /healthz and /metrics
  for (const [method, path] of [
    ['POST', '/carer/unpair'],
    ['POST', '/carer/cancel'],
    ['GET', '/carer/wearables'],
    ['GET', '/carer'],
    ['GET', '/status'],
    ['GET', '/nope'],
  ]) {
    const body = method === 'POST' ? '{"wearable":"Grace"}' : undefined;
    const none = await raw(port, { method, path, headers: { 'content-type': 'application/json' }, body });
    t.match(none, { status: 401, json: { code: 'E_AUTH' } }, `${method} ${path} without the token`);
    t.equal(none.headers['www-authenticate'], 'Bearer');
    t.match(
      await raw(port, { method, path, headers: { 'content-type': 'application/json', authorization: `Bearer ${'0'.repeat(64)}` }, body }),
      { status: 401, json: { code: 'E_TOKEN' } },
      `${method} ${path} with a wrong token`,
    );
    t.match(
      await raw(port, { method, path, headers: { 'content-type': 'application/json', authorization: `Basic ${token}` }, body }),
      { status: 401, json: { code: 'E_AUTH' } },
      `${method} ${path}: not a bearer token`,
    );
  }
  t.match(await raw(port, { path: '/metrics' }), { status: 200 }, '/metrics open to loopback');

  // the right request works
  t.match(await raw(port, { path: '/carer/wearables', headers: auth }), { status: 200, json: [] });
  t.match(await raw(port, { method: 'POST', path: '/carer/cancel', headers: json, body: '{}' }), { status: 200, json: { cancelled: false, pairing: 'idle' } });
  t.match(
    await raw(port, { method: 'POST', path: '/carer/cancel', headers: { ...auth, 'content-type': 'application/json; charset=utf-8' }, body: '{}' }),
    { status: 200 },
    'JSON with a charset',
  );
  t.match(
    await raw(port, { method: 'POST', path: '/carer/unpair', headers: json, body: '{"wearable":"Grace"}' }),
    { status: 404, json: { code: 'E_NOT_FOUND' } },
    'authorised: routed (no such wearable)',
  );

  const metrics = (await raw(port, { path: '/metrics' })).body;
  t.match(metrics, /^beepkit_agent_api_refusals_total\{code="E_ORIGIN"\} 5$/m, 'refusals counted by code');
  t.match(metrics, /^beepkit_agent_api_refusals_total\{code="E_HOST"\} 7$/m);
  t.match(metrics, /^beepkit_agent_api_refusals_total\{code="E_TOKEN"\} 6$/m);
});

t.test('inputs are validated before anything starts; HEAD; cancel when idle', async (t) => {
  const dir = t.testdir();
  const { port, token } = await startAgent(t, dir);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = (path: string, body: string) => raw(port, { method: 'POST', path, headers, body });
  const bad: [string, string, RegExp][] = [
    ['/carer/pair', '{"address":"zz:zz"}', /address/],
    ['/carer/pair', '{"address":"11:22:33:44:55"}', /address/],
    ['/carer/pair', '{"address":"11:22:33:44:55:zz"}', /address/],
    ['/carer/pair', '{"label":""}', /label/],
    ['/carer/pair', `{"label":"${'x'.repeat(65)}"}`, /label/],
    ['/carer/pair', '{"label":"a\\u0000b"}', /label/],
    ['/carer/pair', '{"label":7}', /label/],
    ['/carer/pair', '{"addr":"11:22:33:44:55:66"}', /unknown field/],
    ['/carer/pair', '[]', /JSON object/],
    ['/carer/pair', 'null', /JSON object/],
    ['/carer/pair', '{"address":', /not JSON/],
    ['/carer/confirm', '{"code":"12ab56"}', /code/],
    ['/carer/confirm', '{"code":123456}', /code/],
    ['/carer/confirm', '{}', /code/],
    ['/carer/cancel', '{"now":true}', /unknown field/],
    ['/carer/sync', '{"wearable":5}', /wearable/],
    ['/carer/unpair', '{}', /wearable/],
    ['/carer/unpair', '{"wearable":"Grace","offline":"yes"}', /offline/],
  ];
  for (const [path, body, msg] of bad) {
    const r = await post(path, body);
    t.match(r, { status: 400, json: { code: 'E_FORMAT', message: msg } }, `${path} ${body.slice(0, 40)}`);
  }
  t.match(
    await post('/carer/pair', `{"label":"${'x'.repeat(70_000)}"}`),
    { status: 400, json: { code: 'E_FORMAT', message: /too large/ } },
    'bodies over 64 KiB',
  );
  t.match(await raw(port, { path: '/carer', headers }), { status: 200, json: { pairing: 'idle', failures: {} } }, 'nothing started, nothing failed');

  const get = await raw(port, { path: '/healthz' });
  const head = await raw(port, { method: 'HEAD', path: '/healthz' });
  t.equal(head.status, 200, 'HEAD /healthz answers like GET');
  t.equal(head.body, '', 'without a body');
  t.equal(head.headers['content-type'], get.headers['content-type']);
  t.match(await raw(port, { method: 'HEAD', path: '/metrics' }), { status: 200, body: '' });
  t.match(await raw(port, { method: 'HEAD', path: '/status' }), { status: 401 }, 'HEAD /status needs the token like GET');
  t.match(await raw(port, { method: 'DELETE', path: '/healthz' }), { status: 405, json: { code: 'E_METHOD' } });
  t.match(await post('/carer/cancel', '{}'), { status: 200, json: { cancelled: false, pairing: 'idle' } }, 'nothing to cancel');
});

t.test('slow-loris: a half-sent request is closed after http.requestTimeoutMs', async (t) => {
  const dir = t.testdir();
  const { port, token } = await startAgent(t, dir);
  const hold = (partial: string): Promise<{ ms: number; reply: string }> =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let reply = '';
      let t0 = 0;
      s.on('connect', () => {
        t0 = performance.now();
        s.write(partial);
      });
      s.on('data', (d) => (reply += d.toString()));
      s.on('error', reject);
      s.on('close', () => resolve({ ms: performance.now() - t0, reply }));
      setTimeout(() => reject(new Error('still open after 10 s')), 10_000).unref();
    });
  const headers = await hold(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
  t.ok(headers.ms >= TIMEOUT_MS * 0.8 && headers.ms < TIMEOUT_MS + 2_000, `headers never finished: closed after ${Math.round(headers.ms)} ms`);
  t.match(headers.reply, /^HTTP\/1\.1 408/, 'answered 408');
  const body = await hold(
    `POST /carer/cancel HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a`,
  );
  t.ok(body.ms >= TIMEOUT_MS * 0.8 && body.ms < TIMEOUT_MS + 2_000, `body never finished: closed after ${Math.round(body.ms)} ms`);
  t.match(await raw(port, { path: '/healthz' }), { status: 200 }, 'still serving');
});

t.test('the token is kept across restarts, refused when readable by others, sent by the CLI', async (t) => {
  const dir = t.testdir();
  const first = await startAgent(t, dir);
  await first.agent.stop();
  const again = await startAgent(t, dir);
  t.equal(again.token, first.token, 'same token after a restart');
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, `dataDir: ${join(dir, 'data')}\n`);
  const run = promisify(execFile);
  const bin = join(root, 'bin', 'beepkit.js');
  const url = `http://127.0.0.1:${again.port}`;
  const { stdout } = await run(process.execPath, [bin, 'agent', 'carer', 'cancel', '--url', url, '--config', cfg], { timeout: 60_000 });
  t.same(JSON.parse(stdout), { cancelled: false, pairing: 'idle' }, 'beepkit agent carer cancel: token read from the data dir');
  const st = await run(process.execPath, [bin, 'agent', 'status', '--url', `${url}/status`, '--config', cfg], { timeout: 60_000 });
  t.match(JSON.parse(st.stdout), { state: 'running', api: { refusals: {} } }, 'beepkit agent status');
  const wrong = join(dir, 'wrong-token');
  writeFileSync(wrong, `${'1'.repeat(64)}\n`, { mode: 0o600 });
  const err = await run(process.execPath, [bin, 'agent', 'carer', 'sync', '--url', url, '--token-file', wrong], { timeout: 60_000 }).catch(
    (e: { code: number; stderr: string }) => e,
  );
  t.match(err, { code: 2, stderr: /E_TOKEN/ }, 'a wrong token file: exit 2, E_TOKEN');
  await again.agent.stop();
  chmodSync(join(dir, 'data', 'api-token'), 0o644);
  const agent = new Agent(
    resolveConfig({ dataDir: join(dir, 'data'), keystore: { passphrase: 'hostile clients' }, log: { level: 'silent' }, http: { port: 0 } }, {}),
  );
  await t.rejects(agent.start(), { code: 'E_PERMISSION' }, 'a token file others can read is refused');
});
