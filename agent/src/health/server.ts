/**
 * The agent's local HTTP endpoint (loopback only): GET|HEAD /healthz (200/503
 * JSON), /status (the status snapshot as JSON), /metrics (Prometheus text), and
 * the optional control routes (`control`: JSON in, JSON out, e.g. /carer/*).
 * Every request first passes guard.ts (Host, Origin, token, content type);
 * slow or idle half-sent requests are closed after `requestTimeoutMs`.
 * What it serves is built from counts and states only (see metrics.ts).
 */
import http from 'node:http';
import { BeepkitError } from '@beepkit/protocol';
import { checkRequest, type GuardPolicy, type Refusal } from './guard.ts';
import { errorCodeOf, httpStatusOf, listenHttp, readJson, sendJson } from '@beepkit/device-core/infra/http';

export interface HealthHandlers {
  health(): { ok: boolean; detail: Record<string, unknown> };
  status(): unknown;
  metrics(): string;
  /** Further routes: undefined → 404. Body: parsed JSON (POST) or {}. Errors: coded BeepkitError → 4xx/5xx JSON {code, message}. */
  control?(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown } | undefined>;
  /** Called once per refused request (its code), e.g. to count and log. */
  refused?(r: Refusal): void;
  /** Paths answered by a handler with a token of its own (the carer page), after the Host/Origin/type checks. */
  page?: { owns(path: string): boolean; handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): void };
}

export interface HealthServerOptions {
  /** The per-kit API token (app/api-token.ts): needed on everything but /healthz and /metrics. */
  token: string;
  /** Host names besides the loopback ones (`name` or `name:port`; config http.allowedHosts). */
  allowedHosts?: readonly string[];
  /** Headers and body must have arrived within this (default 8000 ms); checked every min(1 s, timeout/8). */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this (default 5000 ms, at most requestTimeoutMs). */
  keepAliveTimeoutMs?: number;
}

const MAX_BODY = 64 * 1024;
const READ_PATHS = new Set(['/healthz', '/status', '/metrics']);

function control(h: HealthHandlers, req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
  void (async () => {
    const body = req.method === 'POST' ? await readJson(req, MAX_BODY) : {};
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const out = await h.control!(method, path, body);
    if (out) sendJson(res, out.status, out.body);
    else res.writeHead(method === 'GET' || method === 'POST' ? 404 : 405).end();
  })().catch((e: unknown) => {
    const c = errorCodeOf(e);
    sendJson(res, httpStatusOf(c), { code: c, message: String((e as Error)?.message ?? e) });
  });
}

function read(h: HealthHandlers, res: http.ServerResponse, path: string): void {
  try {
    if (path === '/healthz') {
      const s = h.health();
      sendJson(res, s.ok ? 200 : 503, { status: s.ok ? 'ok' : 'unavailable', ...s.detail });
    } else if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(h.status(), null, 2) + '\n');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(h.metrics());
    }
  } catch {
    res.writeHead(500).end();
  }
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startHealthServer(host: string, port: number, h: HealthHandlers, o: HealthServerOptions): Promise<HealthServer> {
  if (!LOOPBACK.has(host)) throw new BeepkitError('E_CONFIG', `health: ${host} is not a loopback address`);
  if (!o.token) throw new BeepkitError('E_CONFIG', 'health: an API token is needed');
  const timeout = o.requestTimeoutMs ?? 8_000;
  const policy: GuardPolicy = {
    port,
    allowedHosts: (o.allowedHosts ?? []).map((x) => x.toLowerCase()),
    token: o.token,
    ownAuth: h.page && ((p) => h.page!.owns(p)),
  };
  const server = http.createServer(
    {
      requestTimeout: timeout,
      headersTimeout: timeout,
      keepAliveTimeout: Math.min(o.keepAliveTimeoutMs ?? 5_000, timeout),
      connectionsCheckingInterval: Math.max(20, Math.min(1_000, Math.floor(timeout / 8))),
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const method = req.method ?? 'GET';
      const refusal = checkRequest(method, path, req.headers, policy);
      if (refusal) {
        h.refused?.(refusal);
        // a refused request's body is not read: close the connection after the answer
        sendJson(
          res,
          refusal.status,
          { code: refusal.code, message: refusal.message },
          { connection: 'close', ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) },
        );
        return;
      }
      if (h.page?.owns(path)) return h.page.handle(req, res, path);
      if (READ_PATHS.has(path)) {
        if (method === 'GET' || method === 'HEAD') return read(h, res, path);
        sendJson(res, 405, { code: 'E_METHOD', message: `${path}: GET or HEAD only` }, { allow: 'GET, HEAD' });
        return;
      }
      if (h.control) return control(h, req, res, path);
      res.writeHead(404).end();
    },
  );
  const l = await listenHttp(server, port, host, 'health');
  policy.port = l.port;
  return l;
}
