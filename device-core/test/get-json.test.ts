/**
 * getJson (the scenario clock's poll, node:http instead of fetch): the parsed body on 200, E_IO for
 * another status, a refused connection or a server that never answers, E_FORMAT for a body that is not JSON.
 */
import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getJson } from '@beepkit/device-core/clock';
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
