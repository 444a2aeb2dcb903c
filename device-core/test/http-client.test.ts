/**
 * The devices' HTTP client (infra/http-client.ts: node:http, not fetch). getJson (the scenario clock's poll): the parsed body on 200, E_IO for
 * another status, a refused connection or a server that never answers, E_FORMAT for a body that is not JSON.
 */
import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getJson, httpRequest } from '@beepkit/device-core/infra/http-client';
import { freePort } from '../../scripts/ports.ts';

t.test('getJson over node:http', async (t) => {
  const hung: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/ok') res.end(JSON.stringify({ now: 1, speed: 60, paused: false, name: 'café ✓' }));
    else if (req.url === '/text') res.end('<html>not json</html>');
    else if (req.url === '/hang') hung.push(res);
    else {
      res.statusCode = 503;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const res of hung) res.destroy();
        server.close(() => r());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.same(await getJson(`${base}/ok`, 2000), { now: 1, speed: 60, paused: false, name: 'café ✓' }, 'the body, parsed (UTF-8 kept)');
  await t.rejects(getJson(`${base}/text`, 2000), { code: 'E_FORMAT' }, 'not JSON');
  await t.rejects(getJson(`${base}/missing`, 2000), { code: 'E_IO', message: /HTTP 503/ }, 'a status other than 200');
  await t.rejects(getJson(`${base}/hang`, 200), { code: 'E_IO', message: /no answer within 200 ms/ }, 'no answer in time');
  await t.rejects(getJson(`http://127.0.0.1:${await freePort()}/clock`, 2000), { code: 'E_IO', message: /ECONNREFUSED/ }, 'nothing listening');
});

t.test('httpRequest: a POST body arrives whole; an answer past maxBytes, or a URL that is not http(s), is refused', async (t) => {
  let got = '';
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      got = `${req.method} ${req.headers['content-type']} ${req.headers['content-length']} ${body}`;
      res.statusCode = req.url === '/big' ? 200 : 204;
      res.end(req.url === '/big' ? 'x'.repeat(4096) : undefined);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const body = JSON.stringify({ level: 'high', text: 'café' });
  const a = await httpRequest(`${base}/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, timeoutMs: 2000 });
  t.same(a, { status: 204, body: '' }, 'the status and the (empty) answer');
  t.equal(got, `POST application/json ${Buffer.byteLength(body)} ${body}`, 'method, headers, byte length and body as sent');
  await t.rejects(httpRequest(`${base}/big`, { timeoutMs: 2000, maxBytes: 1024 }), { code: 'E_IO', message: /longer than 1024 bytes/ }, 'too long');
  t.equal((await httpRequest(`${base}/big`, { timeoutMs: 2000 })).body.length, 4096, 'within the default bound');
  await t.rejects(httpRequest('file:///etc/passwd', { timeoutMs: 2000 }), { code: 'E_CONFIG' }, 'not http(s)');
});
