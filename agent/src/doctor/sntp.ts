/**
 * A tiny SNTP client (RFC 4330): one 48-byte request over UDP, the server's receive and transmit
 * timestamps, the clock offset ((t1 − t0) + (t2 − t3)) / 2 and the round trip. Short timeout; an
 * unreachable server is an answer of its own (`beepkit doctor` then skips NTP and says why).
 */
import { createSocket } from 'node:dgram';
import { BeepkitError } from '@beepkit/protocol';

const NTP_EPOCH_OFFSET_S = 2_208_988_800; // 1900-01-01 → 1970-01-01

export interface SntpResult {
  /** Server clock − local clock, ms. */
  offsetMs: number;
  roundTripMs: number;
  stratum: number;
  server: string;
}

/** `host` or `host:port` (default port 123). */
export function parseServer(s: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(s.trim());
  if (!m) throw new BeepkitError('E_CONFIG', `--ntp: expected host or host:port, got ${JSON.stringify(s)}`);
  const port = m[2] === undefined ? 123 : Number(m[2]);
  if (port < 1 || port > 65535) throw new BeepkitError('E_CONFIG', `--ntp: port out of range in ${JSON.stringify(s)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

const readTs = (b: Buffer, at: number): number => (b.readUInt32BE(at) - NTP_EPOCH_OFFSET_S) * 1000 + (b.readUInt32BE(at + 4) / 2 ** 32) * 1000;

function writeTs(b: Buffer, at: number, ms: number): void {
  const s = Math.floor(ms / 1000);
  b.writeUInt32BE((s + NTP_EPOCH_OFFSET_S) >>> 0, at);
  b.writeUInt32BE(Math.floor(((ms - s * 1000) / 1000) * 2 ** 32) >>> 0, at + 4);
}

/** One SNTP exchange with `server`, local time from `now()`. E_TIMEOUT / E_IO / E_FORMAT. */
export function sntpQuery(server: string, now: () => number, timeoutMs = 1500): Promise<SntpResult> {
  const { host, port } = parseServer(server);
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise<SntpResult>((resolve, reject) => {
    const done = (err: Error | null, r?: SntpResult): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(r!);
    };
    const timer = setTimeout(() => done(new BeepkitError('E_TIMEOUT', `NTP ${server}: no answer within ${(timeoutMs / 1000).toFixed(1)} s`)), timeoutMs);
    const req = Buffer.alloc(48);
    req[0] = (4 << 3) | 3; // version 4, mode 3 (client)
    let t0 = now();
    let p0 = performance.now();
    writeTs(req, 40, t0);
    sock.on('error', (e) => done(new BeepkitError('E_IO', `NTP ${server}: ${e.message}`, { cause: e })));
    sock.on('message', (msg) => {
      const t3 = t0 + (performance.now() - p0);
      if (msg.length < 48 || (msg[0] & 7) !== 4) return done(new BeepkitError('E_FORMAT', `NTP ${server}: not a server reply`));
      const stratum = msg[1];
      if (stratum === 0) return done(new BeepkitError('E_IO', `NTP ${server}: kiss-o'-death (${msg.subarray(12, 16).toString('latin1')})`));
      const t1 = readTs(msg, 32);
      const t2 = readTs(msg, 40);
      done(null, { offsetMs: (t1 - t0 + (t2 - t3)) / 2, roundTripMs: t3 - t0 - (t2 - t1), stratum, server });
    });
    sock.send(req, port, host, (err) => {
      if (err) done(new BeepkitError('E_IO', `NTP ${server}: ${err.message}`, { cause: err }));
      t0 = now();
      p0 = performance.now();
    });
  });
}
