/**
 * Who may drive the agent's local API (issue 20): the checks every request
 * passes before it is routed, in order:
 *  1. Host: a loopback name (localhost, 127.0.0.1, [::1]) with the bound port,
 *     or a configured name (`http.allowedHosts`): 421 E_HOST otherwise (DNS
 *     rebinding: a page on evil.example that resolves to 127.0.0.1 still sends
 *     `Host: evil.example:9470`).
 *  2. Origin, when the request carries one: the same names, http(s): 403
 *     E_ORIGIN otherwise (CSRF: a page's cross-origin fetch or form POST).
 *  3. The per-kit token (`Authorization: Bearer <token>`) on everything but
 *     the open paths (/healthz, /metrics) and those with a token of their own
 *     (`ownAuth`: the carer page): 401 E_AUTH (none) or E_TOKEN (wrong).
 *  4. POST bodies only as `application/json`: 415 E_MEDIA_TYPE.
 * Pure functions of the request headers; the server counts and answers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export interface GuardPolicy {
  /** The port the server is bound to. */
  port: number;
  /** Further host names (`name` or `name:port`), lowercase. */
  allowedHosts: readonly string[];
  /** The per-kit API token. */
  token: string;
  /** Paths that check a token of their own instead (the carer page: agent/src/carer-page). */
  ownAuth?: (path: string) => boolean;
}

/** Paths served without the token (counts and states only). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/metrics']);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `name[:port]` or `[v6][:port]` → lowercase name (IPv6 with brackets) and port (undefined: none given). */
export function splitHost(h: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(h);
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: m[1].toLowerCase(), port };
}

/** Whether `host` (a Host header value or an Origin's host) names this server. */
export function hostAllowed(host: string, p: Pick<GuardPolicy, 'port' | 'allowedHosts'>, defaultPort = 80): boolean {
  const h = splitHost(host);
  if (!h) return false;
  const port = h.port ?? defaultPort;
  if (LOOPBACK_NAMES.has(h.name)) return port === p.port;
  for (const entry of p.allowedHosts) {
    const e = splitHost(entry);
    if (!e || e.name !== h.name) continue;
    // `name` alone: the bound port, or none (a reverse proxy on 80/443); `name:port`: that port only
    if (e.port === undefined ? h.port === undefined || h.port === p.port : h.port === e.port) return true;
  }
  return false;
}

function originAllowed(origin: string, p: GuardPolicy): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '')) return false;
  return hostAllowed(u.host, p, u.protocol === 'https:' ? 443 : 80) && (u.protocol === 'http:' || !LOOPBACK_NAMES.has(u.hostname));
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of a presented token with the kit's. */
export function tokenMatches(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token));
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);

/** The first check a request fails, or undefined when it may be routed. */
export function checkRequest(method: string, path: string, headers: IncomingHttpHeaders, p: GuardPolicy): Refusal | undefined {
  const host = one(headers.host);
  if (!host || !hostAllowed(host, p)) {
    return { status: 421, code: 'E_HOST', message: 'Host is not this agent (loopback names with its port, or http.allowedHosts)' };
  }
  const origin = headers.origin;
  if (origin !== undefined && (typeof origin !== 'string' || !originAllowed(origin, p))) {
    return { status: 403, code: 'E_ORIGIN', message: 'cross-origin requests are refused' };
  }
  if (headers['sec-fetch-site'] === 'cross-site') return { status: 403, code: 'E_ORIGIN', message: 'cross-site requests are refused' };
  if (!OPEN_PATHS.has(path) && !p.ownAuth?.(path)) {
    const auth = one(headers.authorization);
    const m = auth ? /^Bearer ([\x21-\x7e]{1,256})$/.exec(auth) : null;
    if (!m) return { status: 401, code: 'E_AUTH', message: 'this endpoint needs the kit API token (Authorization: Bearer <token>, from <dataDir>/api-token)' };
    if (!tokenMatches(m[1], p.token)) return { status: 401, code: 'E_TOKEN', message: 'wrong API token' };
  }
  if (method === 'POST') {
    const type = one(headers['content-type'])?.split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return { status: 415, code: 'E_MEDIA_TYPE', message: 'POST bodies must be Content-Type: application/json' };
  }
  return undefined;
}
