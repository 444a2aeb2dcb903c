/**
 * gpsd as a GNSS source: JSON protocol over TCP (default 2947). Sends ?WATCH={"enable":true,"json":true},
 * reads TPV and SKY reports. gpsd prints a TPV after each fix-bearing sentence, so TPVs are coalesced
 * per time: the last report for a time is emitted when a later time arrives (or on silence).
 */
import net from 'node:net';
import { GnssSourceBase, type GnssSourceBaseOptions } from './base.ts';
import type { GnssFix } from './types.ts';

export interface GpsdGnssOptions extends GnssSourceBaseOptions {
  host?: string;
  port?: number;
}

interface Sky {
  hdop?: number;
  pdop?: number;
  vdop?: number;
  uSat?: number;
  nSat?: number;
}

export class GpsdGnssSource extends GnssSourceBase {
  readonly kind = 'gpsd' as const;
  private sock: net.Socket | undefined;
  private held: GnssFix | undefined;
  private sky: Sky = {};
  private buf = '';

  constructor(private readonly opts: GpsdGnssOptions) {
    super(opts);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.setState('connecting', `connecting to gpsd ${this.opts.host ?? '127.0.0.1'}:${this.opts.port ?? 2947}`);
    this.connect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.sock?.destroy();
    this.sock = undefined;
    this.flushEpoch();
    this.setState('closed', 'stopped');
  }

  protected override flushEpoch(): void {
    const h = this.held;
    this.held = undefined;
    if (h) this.emitFix(h);
  }

  private connect(): void {
    const sock = net.connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port ?? 2947 });
    this.sock = sock;
    this.buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      sock.write('?WATCH={"enable":true,"json":true}\n');
      this.connected('connected to gpsd');
    });
    sock.on('data', (d: string) => {
      this.activity();
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.onJson(line);
      }
      if (this.buf.length > 65_536) this.buf = '';
    });
    sock.on('error', (err) => this.log.warn({ err: err.message }, 'gpsd socket error'));
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.sock = undefined;
      this.scheduleReconnect('gpsd connection closed', () => this.connect());
    });
  }

  private onJson(line: string): void {
    this.bump('lines');
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.bump('E_FORMAT');
      this.emit('reject', { code: 'E_FORMAT', message: 'gpsd sent a line that is not JSON', line: line.slice(0, 120) });
      return;
    }
    const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
    if (o.class === 'SKY') {
      this.sky = { hdop: num('hdop'), pdop: num('pdop'), vdop: num('vdop'), uSat: num('uSat'), nSat: num('nSat') };
      return;
    }
    if (o.class !== 'TPV') return;
    this.bump('sentences');
    const time = typeof o.time === 'string' ? o.time : undefined;
    const timeMs = time !== undefined ? Date.parse(time) : undefined;
    const mode = num('mode') ?? 0;
    const fix: GnssFix = {
      source: 'gpsd',
      time,
      timeMs: timeMs !== undefined && Number.isFinite(timeMs) ? timeMs : undefined,
      mode: (mode >= 0 && mode <= 3 ? mode : 0) as GnssFix['mode'],
      status: num('status') ?? (mode >= 2 ? 1 : 0),
      lat: mode >= 2 ? num('lat') : undefined,
      lon: mode >= 2 ? num('lon') : undefined,
      altMSL: num('altMSL'),
      speed: num('speed'),
      track: num('track'),
      hdop: this.sky.hdop,
      pdop: this.sky.pdop,
      vdop: this.sky.vdop,
      satellitesUsed: this.sky.uSat,
      satellitesInView: this.sky.nSat,
      accuracy: num('eph'),
      usable: false,
      receivedAt: this.now(),
    };
    if (this.held && this.held.time !== fix.time) this.flushEpoch();
    this.held = fix;
  }
}
