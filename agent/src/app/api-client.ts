/**
 * The agent's own CLI as a client of its local API: where the running agent
 * listens (`--url`, else the config's http.host/http.port) and its token
 * (`--token-file`, else `<dataDir>/api-token` of the config: `--config`, or the
 * default config with BEEPKIT_AGENT_* overrides). Requests carry
 * `Authorization: Bearer` and `Content-Type: application/json` themselves.
 */
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { loadConfig, type AgentConfig } from '../config/index.ts';
import { API_PORT_FILE, API_TOKEN_FILE, readApiPort, readApiToken } from './api-token.ts';

export interface ApiTarget {
  /** Base URL of the agent's API (http://127.0.0.1:9470). */
  base: string;
  token: string;
}

export interface ApiTargetOptions {
  url?: string;
  config?: string;
  tokenFile?: string;
}

export const apiBase = (cfg: AgentConfig): string => `http://${cfg.http.host === '::1' ? '[::1]' : cfg.http.host}:${cfg.http.port}`;

/** The running agent's base URL and token from CLI options. */
export async function apiTarget(o: ApiTargetOptions): Promise<ApiTarget> {
  let cfg: AgentConfig | undefined;
  const config = (): AgentConfig => (cfg ??= loadConfig(o.config));
  const path = o.tokenFile ?? join(config().dataDir, API_TOKEN_FILE);
  let token: string;
  try {
    token = await readApiToken(path);
  } catch (e) {
    const missing = ((e as BeepkitError).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    if (!missing) throw e;
    throw new BeepkitError('E_AUTH', `no API token at ${path}: give the running agent's --config (its dataDir holds ${API_TOKEN_FILE}) or --token-file`);
  }
  if (o.url) return { base: o.url, token };
  const c = config();
  // http.port 0: the kernel chose the port, and the running agent recorded it beside its token
  const port = c.http.port === 0 ? await readApiPort(c.dataDir) : c.http.port;
  if (port === undefined) throw new BeepkitError('E_IO', `no agent running on ${c.dataDir}: http.port is 0 and no ${API_PORT_FILE} was recorded there`);
  return { base: apiBase({ ...c, http: { ...c.http, port } }), token };
}

/** One JSON request to the running agent; E_IO when nothing answers. */
export async function callAgent(
  t: ApiTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 300_000,
): Promise<{ status: number; doc: any }> {
  let res: Response;
  const url = new URL(path, t.base);
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${t.token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new BeepkitError('E_IO', `no agent at ${url.origin}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  let doc: any;
  try {
    doc = text ? JSON.parse(text) : undefined;
  } catch {
    throw new BeepkitError('E_FORMAT', `${url.pathname}: HTTP ${res.status}, not JSON`);
  }
  return { status: res.status, doc };
}
