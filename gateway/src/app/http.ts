/** Local HTTP endpoint: GET /healthz (200 ok / 503 not ready, JSON), GET /metrics (Prometheus text), GET /status (JSON). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeepkitError } from '@beepkit/protocol';

export interface HttpHandlers {
  health(): { ok: boolean; detail: Record<string, unknown> };
  metrics(): Promise<string>;
  /** Ledger heights, the anchoring backlog. */
  status?(): Record<string, unknown>;
}

export async function startHttp(host: string, port: number, h: HttpHandlers): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      const s = h.health();
      res.writeHead(s.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: s.ok ? 'ok' : 'unavailable', ...s.detail }) + '\n');
      return;
    }
    if (path === '/status' && h.status) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(h.status()) + '\n');
      return;
    }
    if (path === '/metrics') {
      h.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new BeepkitError('E_IO', `http: cannot listen on ${host}:${port}`, { cause })));
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
