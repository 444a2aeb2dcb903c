/** Beacon status/health/metrics over HTTP on 127.0.0.1: /healthz, /status (JSON), /metrics (Prometheus text). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BeaconStatus } from './daemon.ts';

export async function startHealth(status: () => BeaconStatus & { venueId: string }, port = 0, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const s = status();
    if (req.url === '/healthz') {
      res.writeHead(s.advertising ? 200 : 503, { 'content-type': 'text/plain' }).end(s.advertising ? 'ok\n' : 'not advertising\n');
    } else if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(s) + '\n');
    } else if (req.url === '/metrics') {
      const lines = [
        `beepkit_beacon_advertising ${s.advertising ? 1 : 0}`,
        `beepkit_beacon_frames_total ${s.frames}`,
        `beepkit_beacon_controller_resets_total ${s.resets}`,
        `beepkit_beacon_errors_total ${s.errors}`,
        `beepkit_beacon_slot ${s.slot ?? 0}`,
      ];
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
