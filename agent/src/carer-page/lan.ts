/**
 * The carer page's opt-in LAN mode (config carer.page.lan): an HTTPS server on
 * `carer.page.host:carer.page.port` with the kit's own certificate
 * (access.ts), serving only the carer page (/carer/page/…; `/` redirects
 * there), never the rest of the local API. In front of the page's own token
 * check: a request whose Origin is not this server (`https://<its Host>`) or
 * that says `Sec-Fetch-Site: cross-site` is refused 403 E_ORIGIN; POST bodies
 * only as application/json (415 E_MEDIA_TYPE). Half-sent requests are closed
 * after `requestTimeoutMs`, as on the loopback server.
 */
import https from 'node:https';
import { listenHttp } from '@beepkit/device-core/infra/http';
import { isPagePath, PAGE_HEADERS, PAGE_PREFIX, type CarerPage } from './page.ts';
import type { KitCertificate } from './access.ts';

export interface LanServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface LanOptions {
  host: string;
  port: number;
  cert: KitCertificate;
  requestTimeoutMs?: number;
  /** Called once per refused request (its code). */
  refused?(code: string): void;
}

/** Why a LAN request is refused before the page sees it, or undefined. */
export function lanRefusal(method: string, headers: import('node:http').IncomingHttpHeaders): { status: number; code: string; message: string } | undefined {
  const host = headers.host;
  const origin = headers.origin;
  if (origin !== undefined && (typeof host !== 'string' || origin.toLowerCase() !== `https://${host.toLowerCase()}`)) {
    return { status: 403, code: 'E_ORIGIN', message: 'cross-origin requests are refused' };
  }
  if (headers['sec-fetch-site'] === 'cross-site') return { status: 403, code: 'E_ORIGIN', message: 'cross-site requests are refused' };
  if (method === 'POST' && headers['content-type']?.split(';')[0].trim().toLowerCase() !== 'application/json') {
    return { status: 415, code: 'E_MEDIA_TYPE', message: 'POST bodies must be Content-Type: application/json' };
  }
  return undefined;
}

export async function startLanServer(page: CarerPage, o: LanOptions): Promise<LanServer> {
  const timeout = o.requestTimeoutMs ?? 8_000;
  const server = https.createServer(
    {
      key: o.cert.key,
      cert: o.cert.cert,
      minVersion: 'TLSv1.2',
      requestTimeout: timeout,
      headersTimeout: timeout,
      keepAliveTimeout: Math.min(5_000, timeout),
      connectionsCheckingInterval: Math.max(20, Math.min(1_000, Math.floor(timeout / 8))),
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const method = req.method ?? 'GET';
      const r = lanRefusal(method, req.headers);
      if (r) {
        o.refused?.(r.code);
        res
          .writeHead(r.status, { ...PAGE_HEADERS, 'content-type': 'application/json', connection: 'close' })
          .end(JSON.stringify({ code: r.code, message: r.message }) + '\n');
        return;
      }
      if (path === '/') {
        res.writeHead(308, { ...PAGE_HEADERS, location: `${PAGE_PREFIX}/` }).end();
        return;
      }
      if (isPagePath(path)) return page.handle(req, res, path);
      res
        .writeHead(404, { ...PAGE_HEADERS, 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 'E_NOT_FOUND', message: 'only the carer page is served here' }) + '\n');
    },
  );
  // a client that gives up mid-handshake (or is not TLS at all) must not crash the agent
  server.on('tlsClientError', () => o.refused?.('E_TLS'));
  return listenHttp(server, o.port, o.host, 'carer page');
}
