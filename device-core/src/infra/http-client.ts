/**
 * The devices' HTTP client: one request over node:http (node:https loaded when a URL names it), for the
 * scenario clock's poll and the agent's alert webhook. Not fetch(): the first fetch() in a process loads
 * undici, its code and its WebAssembly HTTP parser, ~8 MB of a trial agent's resident memory for a poll
 * of a few bytes twice a second (agent/README "Memory"). No redirects are followed: a device posts to
 * and polls the URL it was given.
 */
import { request as httpRequestFn, type IncomingMessage } from 'node:http';
import { BeepkitError } from '@beepkit/protocol';

export interface HttpRequestOptions {
  /** GET unless said. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The whole exchange, from the request to the last byte of the answer. */
  timeoutMs: number;
  /** An answer longer than this is refused (E_IO; default 1 MiB). */
  maxBytes?: number;
}

export interface HttpAnswer {
  status: number;
  /** The answer's body as UTF-8 text. */
  body: string;
}

/** One request; E_IO when it fails, takes longer than `timeoutMs` or answers more than `maxBytes`. */
export async function httpRequest(url: string, o: HttpRequestOptions): Promise<HttpAnswer> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BeepkitError('E_CONFIG', `${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BeepkitError('E_CONFIG', `${url}: only http:// and https:// are spoken here`);
  const request = u.protocol === 'https:' ? (await import('node:https')).request : httpRequestFn;
  const maxBytes = o.maxBytes ?? 1 << 20;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const fail = (e: Error): void => reject(e instanceof BeepkitError ? e : new BeepkitError('E_IO', `${url}: ${e.message}`, { cause: e }));
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) };
    const req = request(u, { method: o.method ?? 'GET', headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes > maxBytes) {
          fail(new BeepkitError('E_IO', `${url}: the answer is longer than ${maxBytes} bytes`));
          clearTimeout(timer);
          req.destroy();
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(new BeepkitError('E_IO', `${url}: no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    req.end(o.body);
  });
}

/** GET `url` and parse its JSON body: E_IO for a failed request or a status other than 200, E_FORMAT for a body that is not JSON. */
export async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const a = await httpRequest(url, { timeoutMs });
  if (a.status !== 200) throw new BeepkitError('E_IO', `${url}: HTTP ${a.status}`);
  try {
    return JSON.parse(a.body) as unknown;
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', `${url}: the answer is not JSON`, { cause });
  }
}
