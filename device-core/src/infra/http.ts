/**
 * HTTP helpers of the local JSON APIs (the agent's health/control server, the
 * sim's control API): a bounded JSON request body, and the agent's mapping of
 * an error code to an HTTP status, JSON answers, and listening with a typed
 * error and a close that ends every connection.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeepkitError } from '@beepkit/protocol';

/** Reads a JSON request body of at most `maxBytes` (E_FORMAT beyond, or when not JSON); an empty body is {}. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBytes) throw new BeepkitError('E_FORMAT', 'request body too large');
    parts.push(c);
  }
  const text = Buffer.concat(parts).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BeepkitError('E_FORMAT', 'request body is not JSON');
  }
}

const ERROR_STATUS: Record<string, number> = { E_NOT_FOUND: 404, E_BUSY: 409, E_STATE: 409, E_CODE: 403, E_TIMEOUT: 504, E_CONFIG: 400, E_FORMAT: 400 };

/** The error code an HTTP error body carries: the error's own `E_*` code, else E_INTERNAL. */
export function errorCodeOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^E_[A-Z0-9_]+$/.test(code) ? code : 'E_INTERNAL';
}

/** The HTTP status of an error code: 404 not found, 409 busy/state, 403, 504, 400 bad input, 500 internal, 422 any other refusal. */
export function httpStatusOf(code: string): number {
  return ERROR_STATUS[code] ?? (code === 'E_INTERNAL' ? 500 : 422);
}

/** Answers `body` as one line of JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body) + '\n');
}

/** A listening HTTP server: the bound port (the kernel's choice for 0) and a close that ends keep-alive connections too. */
export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port; E_IO naming `what` and the address when it cannot (port taken, bad host). */
export async function listenHttp(server: Server, port: number, host: string, what: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new BeepkitError('E_IO', `${what}: cannot listen on ${host}:${port}: ${(cause as Error).message}`, { cause })));
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
