/**
 * The agent's local HTTP endpoint (loopback only): GET /healthz (200/503 JSON),
 * GET /status (the status snapshot as JSON), GET /metrics (Prometheus text),
 * and the optional control routes (`control`: JSON in, JSON out, e.g. /carer/*).
 * What it serves is built from counts and states only (see metrics.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeepkitError } from '@beepkit/protocol';

export interface HealthHandlers {
  health(): { ok: boolean; detail: Record<string, unknown> };
  status(): unknown;
  metrics(): string;
  /** Further routes: undefined → 404. Body: parsed JSON (POST) or {}. Errors: coded BeepkitError → 4xx/5xx JSON {code, message}. */
  control?(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown } | undefined>;
}

const ERROR_STATUS: Record<string, number> = { E_NOT_FOUND: 404, E_BUSY: 409, E_STATE: 409, E_CODE: 403, E_TIMEOUT: 504, E_CONFIG: 400, E_FORMAT: 400 };
const MAX_BODY = 64 * 1024;

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new BeepkitError('E_FORMAT', 'request body too large');
    parts.push(c as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BeepkitError('E_FORMAT', 'request body is not JSON');
  }
}

function control(h: HealthHandlers, req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
  const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
  void (async () => {
    const body = req.method === 'POST' ? await readJson(req) : {};
    const out = await h.control!(req.method ?? 'GET', path, body);
    if (out) send(out.status, out.body);
    else res.writeHead(req.method === 'GET' || req.method === 'POST' ? 404 : 405).end();
  })().catch((e: unknown) => {
    const code = (e as { code?: unknown })?.code;
    const c = typeof code === 'string' && /^E_[A-Z0-9_]+$/.test(code) ? code : 'E_INTERNAL';
    send(ERROR_STATUS[c] ?? (c === 'E_INTERNAL' ? 500 : 422), { code: c, message: String((e as Error)?.message ?? e) });
  });
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
    if (h.control && !['/healthz', '/status', '/metrics'].includes(path)) return control(h, req, res, path);
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
