/**
 * The sim's control API: JSON over HTTP on 127.0.0.1.
 *
 *   GET  /devices                 every device: position, paths, radio/GNSS state
 *   GET  /events                  recent faults and other events (?since=<scenario s>)
 *   GET  /conformance             EN conformance mode: adverts checked, breaches by device and rule
 *   GET  /clock                   scenario clock {now, iso, elapsed, speed, paused, startTime}
 *   POST /devices/:id/move        {x, y} (ENU metres) or {lat, lon}: pins the device there
 *   POST /faults                  {device, kind, duration?, params?}: applies a fault now
 *   POST /pause, POST /resume     freezes / restarts scenario time
 *
 * Errors: {error: {code, message}} with 400 (E_CONFIG, E_FORMAT), 404 (E_NOT_FOUND).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { FAULT_KINDS, type FaultKind } from '../scenario/schema.ts';
import type { SimView } from './types.ts';
import { listenHttp, readJson as readJsonBody, type Listening } from '@beepkit/device-core/infra/http';

const MAX_BODY = 16 * 1024;

export class ControlServer {
  private listening?: Listening;
  private bound = 0;

  constructor(
    private readonly sim: SimView,
    private readonly wantPort: number,
  ) {}

  get port(): number {
    return this.bound;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => send(res, e));
    });
    server.keepAliveTimeout = 1000;
    this.listening = await listenHttp(server, this.wantPort, '127.0.0.1', 'control API');
    this.bound = this.listening.port;
  }

  async stop(): Promise<void> {
    const l = this.listening;
    this.listening = undefined;
    await l?.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    const sim = this.sim;
    if (route === 'GET /devices') return send(res, 200, sim.deviceStates());
    if (route === 'GET /events') {
      const since = Number(url.searchParams.get('since') ?? '-Infinity');
      return send(
        res,
        200,
        sim.events.filter((e) => e.t >= since),
      );
    }
    if (route === 'GET /clock') return send(res, 200, sim.clock.toJSON());
    if (route === 'GET /conformance') return send(res, 200, sim.conformance());
    if (route === 'POST /pause' || route === 'POST /resume') {
      await readJson(req);
      if (route === 'POST /pause') sim.pause();
      else sim.resume();
      return send(res, 200, sim.clock.toJSON());
    }
    const move = /^\/devices\/([^/]+)\/move$/.exec(url.pathname);
    if (req.method === 'POST' && move) {
      const b = await readJson(req);
      const to =
        typeof b.lat === 'number' && typeof b.lon === 'number'
          ? { lat: b.lat, lon: b.lon }
          : typeof b.x === 'number' && typeof b.y === 'number'
            ? { x: b.x, y: b.y }
            : undefined;
      if (!to) throw new BeepkitError('E_FORMAT', 'move: body must be {x, y} or {lat, lon} (numbers)');
      const id = decodeURIComponent(move[1]!);
      const p = sim.move(id, to);
      return send(res, 200, { id, x: p.x, y: p.y });
    }
    if (route === 'POST /faults') {
      const b = await readJson(req);
      if (typeof b.device !== 'string') throw new BeepkitError('E_FORMAT', 'fault: "device" must be a string');
      if (!FAULT_KINDS.includes(b.kind as FaultKind)) throw new BeepkitError('E_FORMAT', `fault: "kind" must be one of ${FAULT_KINDS.join(', ')}`);
      const duration = b.duration === undefined ? 0 : Number(b.duration);
      if (!Number.isFinite(duration) || duration < 0) throw new BeepkitError('E_FORMAT', 'fault: "duration" must be a number ≥ 0');
      const params: Record<string, number> = {};
      if (b.params !== undefined) {
        if (typeof b.params !== 'object' || b.params === null) throw new BeepkitError('E_FORMAT', 'fault: "params" must be an object');
        for (const [k, v] of Object.entries(b.params)) {
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new BeepkitError('E_FORMAT', `fault: params.${k} must be a number`);
          params[k] = v;
        }
      }
      return send(res, 200, sim.fault({ device: b.device, kind: b.kind as FaultKind, duration, params }));
    }
    throw new BeepkitError('E_NOT_FOUND', `no route ${route}`);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const v = await readJsonBody(req, MAX_BODY);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BeepkitError('E_FORMAT', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

function send(res: ServerResponse, statusOrErr: number | unknown, body?: unknown): void {
  let status: number;
  if (typeof statusOrErr === 'number') status = statusOrErr;
  else {
    const e = statusOrErr;
    const code = isBeepkitError(e) ? e.code : 'E_INTERNAL';
    status = code === 'E_NOT_FOUND' ? 404 : isBeepkitError(e) ? 400 : 500;
    body = { error: { code, message: e instanceof Error ? e.message : String(e) } };
  }
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
