/**
 * Beacon status/health/metrics over HTTP on 127.0.0.1, shaped like the agent's and the gateway's:
 * GET|HEAD /healthz (200 advertising / 503 not, JSON), /status (JSON), /metrics (Prometheus text);
 * another method is 405 and an unknown path 404, both with a JSON error body.
 */
import { createServer } from 'node:http';
import { listenHttp, sendJson, type Listening } from '@beepkit/device-core/infra/http';
import type { BeaconStatus } from './daemon.ts';

export async function startHealth(status: () => BeaconStatus & { venueId: string }, port = 0, host = '127.0.0.1'): Promise<Listening> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!['/healthz', '/status', '/metrics'].includes(path)) return sendJson(res, 404, { code: 'E_NOT_FOUND', message: `${path}: not served here` });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { code: 'E_METHOD', message: `${path}: GET or HEAD only` }, { allow: 'GET, HEAD' });
    const s = status();
    if (path === '/healthz') sendJson(res, s.advertising ? 200 : 503, { status: s.advertising ? 'ok' : 'unavailable', advertising: s.advertising });
    else if (path === '/status') sendJson(res, 200, s);
    else {
      const lines = [
        `beepkit_beacon_advertising ${s.advertising ? 1 : 0}`,
        `beepkit_beacon_frames_total ${s.frames}`,
        `beepkit_beacon_controller_resets_total ${s.resets}`,
        `beepkit_beacon_errors_total ${s.errors}`,
        `beepkit_beacon_slot ${s.slot ?? 0}`,
      ];
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
    }
  });
  return listenHttp(server, port, host, 'beacon http');
}
