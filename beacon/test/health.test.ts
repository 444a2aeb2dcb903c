/**
 * The beacon's HTTP endpoint (loopback): /healthz 200 while advertising and 503 when not, JSON like
 * the agent's and the gateway's; /status JSON; /metrics Prometheus text; GET and HEAD only (405 with
 * Allow otherwise); 404 JSON for anything else; a taken port is E_IO; close ends keep-alive connections.
 */
import t from 'tap';
import { request } from 'node:http';
import { isBeepkitError } from '@beepkit/protocol';
import { startHealth } from '../src/health.ts';
import type { BeaconStatus } from '../src/daemon.ts';

const status: BeaconStatus & { venueId: string } = {
  advertising: true,
  clock: null,
  slot: 7,
  frames: 42,
  resets: 1,
  errors: 0,
  controllerTxPower: null,
  venueId: '0a0b0c0d0e0f',
};

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; allow?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), allow: res.headers.allow, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('health, status, metrics, methods and paths', async (t) => {
  const s = { ...status };
  const h = await startHealth(() => s);
  t.teardown(() => h.close());
  const ok = await get(h.port, '/healthz');
  t.equal(ok.status, 200);
  t.equal(ok.type, 'application/json');
  t.same(JSON.parse(ok.body), { status: 'ok', advertising: true });
  s.advertising = false;
  const down = await get(h.port, '/healthz');
  t.equal(down.status, 503);
  t.same(JSON.parse(down.body), { status: 'unavailable', advertising: false });
  t.equal((await get(h.port, '/healthz', 'HEAD')).status, 503, 'HEAD answers like GET');
  const st = await get(h.port, '/status?x=1');
  t.equal(st.status, 200);
  t.same(JSON.parse(st.body), s);
  const m = await get(h.port, '/metrics');
  t.match(m.type, /^text\/plain/);
  t.match(m.body, /^beepkit_beacon_frames_total 42$/m);
  t.match(m.body, /^beepkit_beacon_advertising 0$/m);
  const post = await get(h.port, '/healthz', 'POST');
  t.equal(post.status, 405);
  t.equal(post.allow, 'GET, HEAD');
  t.equal(JSON.parse(post.body).code, 'E_METHOD');
  const nf = await get(h.port, '/nope');
  t.equal(nf.status, 404);
  t.equal(JSON.parse(nf.body).code, 'E_NOT_FOUND');
});

t.test('a port in use is E_IO naming the address', async (t) => {
  const a = await startHealth(() => status);
  t.teardown(() => a.close());
  const err = await startHealth(() => status, a.port).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(isBeepkitError(err), 'a BeepkitError');
  t.equal((err as { code?: string }).code, 'E_IO');
  t.match((err as Error).message, `beacon http: cannot listen on 127.0.0.1:${a.port}`);
});

t.test('close ends idle keep-alive connections', async (t) => {
  const h = await startHealth(() => status);
  await get(h.port, '/healthz');
  const t0 = process.hrtime.bigint();
  await h.close();
  t.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 4000, 'close does not wait for the keep-alive timeout');
});
