/**
 * The agent's local HTTP endpoint (loopback only): GET /healthz (200/503 JSON),
 * GET /status (the status snapshot as JSON), GET /metrics (Prometheus text).
 * What it serves is built from counts and states only (see metrics.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeepkitError } from '@beepkit/protocol';

export interface HealthHandlers {
  health(): { ok: boolean; detail: Record<string, unknown> };
  status(): unknown;
  metrics(): string;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startHealthServer(host: string, port: number, h: HealthHandlers): Promise<HealthServer> {
  if (!LOOPBACK.has(host)) throw new BeepkitError('E_CONFIG', `health: ${host} is not a loopback address`);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    try {
      if (path === '/healthz') {
        const s = h.health();
        res.writeHead(s.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: s.ok ? 'ok' : 'unavailable', ...s.detail }) + '\n');
      } else if (path === '/status') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(h.status(), null, 2) + '\n');
      } else if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(h.metrics());
      } else res.writeHead(404).end();
    } catch {
      res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new BeepkitError('E_IO', `health: cannot listen on ${host}:${port}: ${(cause as Error).message}`, { cause })));
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
