/**
 * GNSS receiver on a serial port. The ONLY agent module that imports serialport.
 * serialport + parser-readline (framing) → pure NMEA decoder → epoch assembler. Sends MTK start-up
 * configuration (PMTK220 rate, PMTK314 sentences), detects silence, and survives unplug/replug by
 * reopening the same path with exponential backoff.
 */
import { realpath } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import { encodeSentence } from '@beepkit/protocol/nmea';
import { GnssSourceBase, type GnssSourceBaseOptions } from './base.ts';

export type MtkSentence = 'GLL' | 'RMC' | 'VTG' | 'GGA' | 'GSA' | 'GSV' | 'ZDA';
const MTK_INDEX: Readonly<Record<MtkSentence, number>> = { GLL: 0, RMC: 1, VTG: 2, GGA: 3, GSA: 4, GSV: 5, ZDA: 17 };

export interface SerialGnssOptions extends GnssSourceBaseOptions {
  path: string;
  baudRate?: number;
  /** MTK start-up configuration, sent after every (re)open. */
  mtk?: { intervalMs?: number; sentences?: readonly MtkSentence[] };
}

/** The MTK commands for a configuration (PMTK220 then PMTK314). */
export function mtkCommands(mtk: NonNullable<SerialGnssOptions['mtk']>): string[] {
  const out: string[] = [];
  if (mtk.intervalMs !== undefined) out.push(encodeSentence('PMTK', '220', [mtk.intervalMs]));
  if (mtk.sentences !== undefined) {
    const f = new Array<number>(19).fill(0);
    for (const s of mtk.sentences) f[MTK_INDEX[s]] = 1;
    out.push(encodeSentence('PMTK', '314', f));
  }
  return out;
}

type SerialSdk = { SerialPort: typeof import('serialport').SerialPort; ReadlineParser: typeof import('@serialport/parser-readline').ReadlineParser };
let sdk: Promise<SerialSdk> | undefined;
/**
 * serialport and its parser, loaded at the first serial source's start: an agent whose GNSS comes from
 * gpsd or a replay, or that has none, never maps serialport's native binding (~4 MB of RSS).
 */
function loadSerialSdk(): Promise<SerialSdk> {
  sdk ??= Promise.all([import('serialport'), import('@serialport/parser-readline')]).then(([a, b]) => ({
    SerialPort: a.SerialPort,
    ReadlineParser: b.ReadlineParser,
  }));
  return sdk;
}

export class SerialGnssSource extends GnssSourceBase {
  readonly kind = 'serial' as const;
  private port: SerialPort | undefined;
  private probe: NodeJS.Timeout | undefined;
  private sdk: SerialSdk | undefined;

  constructor(private readonly opts: SerialGnssOptions) {
    super(opts);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.setState('connecting', `opening ${this.opts.path}`);
    this.sdk ??= await loadSerialSdk();
    if (this.stopped) return;
    this.connect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    if (this.probe) clearInterval(this.probe);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    this.flushEpoch();
    this.setState('closed', 'stopped');
  }

  /**
   * While the port is silent, check that the device node still exists and still is the same device: a
   * vanished PTY (or a USB node re-created under the same name) is not always reported as a read error.
   */
  private watchDevice(port: SerialPort, lost: (why: string) => void): void {
    if (this.probe) clearInterval(this.probe);
    let device: string | undefined;
    realpath(this.opts.path).then(
      (p) => (device = p),
      () => {},
    );
    this.probe = setInterval(
      () => {
        if (this.state !== 'silent' || this.port !== port) return;
        realpath(this.opts.path).then(
          (p) => {
            if (device !== undefined && p !== device) lost(`device ${this.opts.path} replaced`);
          },
          () => lost(`device ${this.opts.path} vanished`),
        );
      },
      Math.max(50, Math.floor(this.silenceMs / 2)),
    );
  }

  private connect(): void {
    const { SerialPort, ReadlineParser } = this.sdk!;
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? 9600, autoOpen: false });
    this.port = port;
    port.on('error', (err) => this.log.warn({ err: err.message }, 'gnss serial error'));
    port.open((err) => {
      if (this.stopped || this.port !== port) {
        if (!err) port.close();
        return;
      }
      if (err) {
        this.port = undefined;
        this.scheduleReconnect(`open failed: ${err.message}`, () => this.connect());
        return;
      }
      const parser = port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
      parser.on('data', (line: string) => this.onLine(line));
      port.on('data', () => this.activity());
      const lost = (why: string) => {
        if (this.port !== port) return;
        this.port = undefined;
        if (this.probe) clearInterval(this.probe);
        if (port.isOpen) port.close(() => {});
        this.scheduleReconnect(why, () => this.connect());
      };
      port.on('close', (e: { message?: string } | null) => lost(`port closed${e?.message ? `: ${e.message}` : ''}`));
      // a vanished PTY/USB device reads EIO, which serialport reports as an error without closing
      port.on('error', (e: Error) => lost(`port error: ${e.message}`));
      for (const c of this.opts.mtk ? mtkCommands(this.opts.mtk) : []) port.write(c);
      this.watchDevice(port, lost);
      this.connected(`opened ${this.opts.path}`);
    });
  }
}
