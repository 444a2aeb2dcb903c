/**
 * Fixtures of the hostile-client suite (not a test file): the real gateway as
 * a child process (`beepkit gateway run --config`, embedded broker, kernel-
 * chosen ports, its own temp dir), its RSS from /proc, its metrics, and raw
 * MQTT packets written by hand so probes can lie about lengths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { hashPassword } from '../src/broker/index.ts';
import { tempDir } from './broker-helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/beepkit.js', import.meta.url));

/** Device topic ids (= usernames) and their passwords. */
export const DEVICES: Record<string, string> = { 'dev-aaaa0001': 'pw-aaaa0001', 'dev-bbbb0002': 'pw-bbbb0002' };
export const [DEV1, DEV2] = Object.keys(DEVICES);
/** The gateway user's password on the child's embedded broker (for observers). */
export const GW_PASSWORD = 'gw-hostile-secret';

export interface GatewayChild {
  port: number;
  tlsPort?: number;
  http: number;
  pid: number;
  dir: string;
  /** Bytes the gateway has written to stdout (its log) so far. */
  logBytes(): number;
  logText(): string;
  /** Resolves once the log holds `count` lines containing `text` (the child's stdout may trail its CONNACKs); throws after `ms`. */
  logLines(text: string, count: number, ms?: number): Promise<string[]>;
  /** Resident set size of the gateway process, bytes. */
  rss(): number;
  metric(name: string, labels?: string): Promise<number>;
  health(): Promise<number>;
  stop(): Promise<void>;
}

interface TapLike {
  teardown(fn: () => unknown): void;
}

export async function startGateway(
  t: TapLike,
  extra: { limits?: Record<string, number>; tls?: Record<string, unknown>; dir?: string } = {},
): Promise<GatewayChild> {
  const tmp = tempDir('hostile');
  const dir = extra.dir ?? tmp.dir;
  t.teardown(tmp.remove);
  const passwd = Object.entries(DEVICES)
    .map(([u, p]) => `${u}:${hashPassword(p)}\n`)
    .join('');
  writeFileSync(join(dir, 'passwd'), passwd, { mode: 0o600 });
  const cfg = {
    dataDir: join(dir, 'data'),
    broker: {
      password: GW_PASSWORD,
      embedded: {
        host: '127.0.0.1',
        port: 0,
        passwordFile: join(dir, 'passwd'),
        ...(extra.limits ? { limits: extra.limits } : {}),
        ...(extra.tls ? { tls: extra.tls } : {}),
      },
    },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    ingest: { verifyWorkers: 0 },
  };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(cfg));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'gateway', 'run', '--config', join(dir, 'gateway.yaml')], {
    env: { ...process.env, BEEPKIT_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let bytes = 0;
  let text = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => void (stderr.length < 8192 && (stderr += d)));
  const ready = await new Promise<{ broker: string; brokerTls?: string; http: number; pid: number }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
      if (text.length < 1 << 20) text += d.toString('utf8');
      buf += d.toString('utf8');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"ready":true')) resolve(JSON.parse(line));
      }
      if (buf.length > 1 << 16) buf = '';
    });
    void exited.then(() => reject(new Error(`gateway exited before ready: ${stderr}`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  t.teardown(stop);
  const http = ready.http;
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(`http://127.0.0.1:${http}${path}`);
    return { status: r.status, body: await r.text() };
  };
  return {
    port: Number(new URL(ready.broker).port),
    tlsPort: ready.brokerTls ? Number(new URL(ready.brokerTls).port) : undefined,
    http,
    pid: ready.pid,
    dir,
    logBytes: () => bytes,
    logText: () => text,
    async logLines(want, count, ms = 10_000) {
      const lines = (): string[] => text.split('\n').filter((l) => l.includes(want));
      const deadline = performance.now() + ms;
      while (lines().length < count) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`log: ${lines().length} of ${count} lines with ${JSON.stringify(want)} after ${ms} ms`);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, left);
          // after the reader above (registered first) has appended the chunk
          child.stdout!.once('data', () => (clearTimeout(timer), r()));
        });
      }
      return lines();
    },
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${ready.pid}/status`, 'utf8'))![1]) * 1024,
    async metric(name, labels = '') {
      const { body } = await get('/metrics');
      const line = body.split('\n').find((l) => l.startsWith(`${name}${labels} `));
      return line ? Number(line.split(' ')[1]) : 0;
    },
    health: async () => (await get('/healthz')).status,
    stop,
  };
}

/** Samples `rss()` every 20 ms while `probe` runs; the peak and the value after. */
export async function peakRss(rss: () => number, probe: () => Promise<unknown>): Promise<{ before: number; peak: number; after: number }> {
  const before = rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rss())), 20);
  try {
    await probe();
  } finally {
    clearInterval(timer);
  }
  const after = rss();
  return { before, peak: Math.max(peak, after), after };
}

export const MB = 1024 * 1024;

/** MQTT variable-length integer. */
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

const str = (s: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

/** A CONNECT (MQTT 3.1.1). `announce` overrides the remaining length (a lie), without the bytes. */
export function connectPacket(o: { clientId: string; username?: string; password?: string; clean?: boolean }): Buffer {
  const flags = (o.clean === false ? 0 : 0x02) | (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []),
    ...(o.password !== undefined ? [str(o.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** The fixed header + topic of a QoS 0 PUBLISH announcing a payload of `payloadBytes` (send the payload yourself). */
export function publishHeader(topic: string, payloadBytes: number, retain = false): Buffer {
  const t = str(topic);
  return Buffer.concat([Buffer.from([0x30 | (retain ? 1 : 0)]), varint(t.length + payloadBytes), t]);
}

export function headerOnly(type: number, remaining: number): Buffer {
  return Buffer.concat([Buffer.from([type << 4]), varint(remaining)]);
}

/** A raw socket with helpers: the CONNACK return code, and whether the broker closed it. */
export class Raw {
  readonly sock: net.Socket;
  readonly closed: Promise<void>;
  #got = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  constructor(port: number) {
    this.sock = net.connect({ port, host: '127.0.0.1' });
    this.sock.on('error', () => {});
    this.sock.on('data', (d: Buffer) => {
      this.#got = Buffer.concat([this.#got, d]).subarray(0, 4096);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((r) => this.sock.once('close', () => r()));
    void this.closed.then(() => this.#waiters.splice(0).forEach((w) => w()));
  }

  get isClosed(): boolean {
    return this.sock.destroyed;
  }

  /** CONNACK return code, or -1 if the broker closed without one. */
  async connack(): Promise<number> {
    while (this.#got.length < 4 && !this.sock.destroyed) await new Promise<void>((r) => this.#waiters.push(r));
    return this.#got.length >= 4 && this.#got[0] === 0x20 ? this.#got[3] : -1;
  }

  /** Writes `total` bytes of junk in chunks while the socket is open; resolves with the bytes written. */
  async stream(total: number, chunk = 64 * 1024): Promise<number> {
    const buf = Buffer.alloc(chunk, 0x61);
    let sent = 0;
    while (sent < total && !this.sock.destroyed) {
      const ok = this.sock.write(buf);
      sent += chunk;
      if (!ok) await Promise.race([new Promise((r) => this.sock.once('drain', r)), this.closed]);
    }
    return sent;
  }

  destroy(): void {
    this.sock.destroy();
  }
}
