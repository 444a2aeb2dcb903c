/** Local HTTP endpoint: GET|HEAD /healthz (200 ok / 503 not ready, JSON), GET /metrics (Prometheus text), GET /status (JSON). */
import http from 'node:http';
import { listenHttp, sendJson, type Listening } from '@beepkit/device-core/infra/http';

export interface HttpHandlers {
  health(): { ok: boolean; detail: Record<string, unknown> };
  metrics(): Promise<string>;
  /** Ledger heights, the anchoring backlog. */
  status?(): Record<string, unknown>;
}

export async function startHttp(host: string, port: number, h: HttpHandlers): Promise<Listening> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { code: 'E_METHOD', message: `${path}: GET or HEAD only` }, { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      const s = h.health();
      sendJson(res, s.ok ? 200 : 503, { status: s.ok ? 'ok' : 'unavailable', ...s.detail });
      return;
    }
    if (path === '/status' && h.status) {
      sendJson(res, 200, h.status());
      return;
    }
    if (path === '/metrics') {
      h.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    sendJson(res, 404, { code: 'E_NOT_FOUND', message: `${path}: not served here` });
  });
  return listenHttp(server, port, host, 'gateway http');
}
