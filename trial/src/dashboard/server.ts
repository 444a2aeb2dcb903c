/**
 * The live dashboard server: a local HTTP server that keeps the latest state of a
 * field trial (sim, demo or gateway publish typed events to it) and streams new
 * events to open pages over Server-Sent Events.
 *
 *   GET /            the page (plain HTML + ES modules, no build step)
 *   GET /state       JSON snapshot of everything known so far
 *   GET /events      SSE stream; resumes after `?after=<instance>:<seq>` or Last-Event-ID,
 *                    and sends `event: reset` when it cannot (another server instance, or
 *                    a gap wider than the replay ring): the page then reloads /state
 *   GET /healthz     liveness
 *   GET /vendor/...  Leaflet and uPlot served from node_modules (no CDN)
 */
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { BeepkitError } from '@beepkit/protocol/errors';
import { validateEvent, type Stamped } from './events.ts';
import { DashboardState, DEFAULT_LIMITS, type DashboardLimits, type Snapshot } from './state.ts';

export type { Logger };
const SILENT = silentLogger;

export interface DashboardOptions {
  /** 0 picks a free port (see `url` after start) */
  port: number;
  host?: string;
  logger?: Logger;
  title?: string;
  limits?: Partial<DashboardLimits>;
  /** SSE comment heartbeat period; keeps idle streams open through proxies */
  heartbeatMs?: number;
  /** a page whose stream backs up past this many bytes is dropped (it reconnects and resumes) */
  maxClientBufferBytes?: number;
}

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const require = createRequire(import.meta.url);
const VENDOR: Record<string, string> = {
  leaflet: path.join(path.dirname(require.resolve('leaflet/package.json')), 'dist'),
  uplot: path.join(path.dirname(require.resolve('uplot/package.json')), 'dist'),
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'";

export class DashboardServer {
  readonly state: DashboardState;
  /** tells this server's event ids from a previous run's, so a reconnecting page notices a restart */
  readonly instance = randomBytes(4).toString('hex');
  private readonly host: string;
  private readonly log: Logger;
  private readonly heartbeatMs: number;
  private readonly maxClientBuffer: number;
  private server: Server | null = null;
  private readonly clients = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private heartbeat: NodeJS.Timeout | null = null;
  private boundPort: number;

  constructor(opts: DashboardOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.boundPort = opts.port;
    this.log = opts.logger ?? SILENT;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.maxClientBuffer = opts.maxClientBufferBytes ?? 1 << 20;
    this.state = new DashboardState(opts.title ?? 'beepkit field trial', { ...DEFAULT_LIMITS, ...opts.limits });
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}/`;
  }

  /** Number of open event streams. */
  get clientCount(): number {
    return this.clients.size;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.log.error({ err, url: req.url }, 'dashboard: request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new BeepkitError('E_IO', `dashboard: cannot listen on ${this.host}:${this.boundPort}: ${err.message}`, { cause: err })),
      );
      server.listen(this.boundPort, this.host, () => resolve());
    });
    this.server = server;
    const addr = server.address();
    if (addr && typeof addr === 'object') this.boundPort = addr.port;
    this.heartbeat = setInterval(() => this.broadcastRaw(': ping\n\n'), this.heartbeatMs);
    this.heartbeat.unref();
    this.log.info({ url: this.url }, 'dashboard: listening');
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const c of this.clients) c.end();
    this.clients.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    this.log.info('dashboard: stopped');
  }

  /**
   * Validates an event against the schema (throws BeepkitError on unknown fields,
   * bad values or anything that looks like a pseudonym, key or address), folds it
   * into the state and streams it to open pages. Returns its sequence number.
   */
  publish(event: unknown): number {
    const stamped = this.state.apply(validateEvent(event));
    this.broadcastRaw(this.frame(stamped));
    return stamped.seq;
  }

  snapshot(): Snapshot {
    return this.state.snapshot();
  }

  private broadcastRaw(frame: string): void {
    for (const c of this.clients) this.send(c, frame);
  }

  private send(c: ServerResponse, frame: string): void {
    if (c.writableLength > this.maxClientBuffer) {
      this.log.warn({ buffered: c.writableLength }, 'dashboard: slow page dropped');
      this.clients.delete(c);
      c.destroy();
      return;
    }
    c.write(frame);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed');
    const p = url.pathname;
    if (p === '/healthz') return json(res, { ok: true, seq: this.state.lastSeq, clients: this.clients.size });
    if (p === '/state') return json(res, { ...this.state.snapshot(), instance: this.instance });
    if (p === '/events') return this.stream(req, res, url);
    if (p === '/' || p === '/index.html') return serveFile(res, STATIC_DIR, 'index.html');
    const vendor = /^\/vendor\/([a-z]+)\/(.+)$/.exec(p);
    if (vendor && VENDOR[vendor[1]]) return serveFile(res, VENDOR[vendor[1]], vendor[2]);
    if (/^\/[a-z-]+\.(js|css|svg)$/.test(p)) return serveFile(res, STATIC_DIR, p.slice(1));
    return text(res, 404, 'not found');
  }

  private stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const from = req.headers['last-event-id'] ?? url.searchParams.get('after');
    const missed = typeof from === 'string' ? this.resume(from) : [];
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    if (missed === null) res.write('event: reset\ndata: {}\n\n');
    else for (const e of missed) res.write(this.frame(e));
    this.clients.add(res);
    req.socket.setNoDelay(true);
    res.on('close', () => this.clients.delete(res));
  }

  /** The events after an SSE id (`instance:seq`, or a bare seq), or null if the page must reload. */
  private resume(id: string): Stamped[] | null {
    const m = /^(?:([0-9a-f]+):)?(\d+)$/.exec(id);
    if (!m || (m[1] !== undefined && m[1] !== this.instance)) return null;
    const seq = Number(m[2]);
    return seq > this.state.lastSeq ? null : this.state.since(seq);
  }

  private frame(e: Stamped): string {
    return `id: ${this.instance}:${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

async function serveFile(res: ServerResponse, root: string, rel: string): Promise<void> {
  const file = path.resolve(root, rel);
  const type = TYPES[path.extname(file)];
  if (!file.startsWith(root.endsWith(path.sep) ? root : root + path.sep) || !type) return text(res, 404, 'not found');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return text(res, 404, 'not found');
  }
  res.writeHead(200, { 'content-type': type, 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
  res.end(body);
}
