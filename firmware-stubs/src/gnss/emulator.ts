/**
 * GNSS receiver emulator on a PTY. Writes NMEA 0183 4.11 like a real receiver (GGA RMC GSA GSV VTG GLL
 * ZDA, 1–10 Hz), obeys MTK PMTK220 (rate) / PMTK314 (sentences) with PMTK001 acks, injects faults, and
 * replays captured logs. `path` is a stable symlink to the current PTY, so unplug/replug looks like a
 * USB receiver disappearing and coming back under the same name.
 */
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import { EventEmitter } from 'node:events';
import { rmSync, symlinkSync, renameSync } from 'node:fs';
import path from 'node:path';
import type tty from 'node:tty';
import { encodeSentence, parseEnvelope } from '@beepkit/protocol/nmea';
import { BeepkitError } from '@beepkit/protocol';
import { openPty, PtyWriter, type Pty } from '../pty.ts';
import { checkPathFits, shortDir } from '../paths.ts';
import { ALL_SENTENCES, ReceiverModel, trajectoryAt, type EpochState, type SentenceType, type Trajectory } from './model.ts';
import { replayLog, type ReplayOptions } from './replay.ts';
import { hostNow } from '@beepkit/protocol/clock';
import type { GnssClock } from './types.ts';

export const systemClock: GnssClock = {
  now: () => hostNow(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type GnssFault =
  | { kind: 'outage'; epochs: number } // no fix, still talking
  | { kind: 'silence'; epochs: number } // nothing written
  | { kind: 'bad-checksum'; count: number } // next sentences get a wrong *hh
  | { kind: 'truncate'; count: number } // next sentences cut short (line still ends)
  | { kind: 'run-together'; count: number } // a sentence loses its tail and CRLF, the next follows on the same line
  | { kind: 'garbage'; bytes: number } // random bytes before the next epoch
  | { kind: 'time-jump'; ms: number } // receiver clock jumps (persistent offset)
  | { kind: 'position-jump'; north: number; east: number; epochs?: number } // spoofing: metres, for N epochs or for good
  | { kind: 'unplug'; epochs: number }; // port vanishes, comes back after N epochs

export interface ScheduledFault {
  atEpoch: number;
  fault: GnssFault;
}

export interface GnssEmulatorOptions {
  /**
   * Directory for the stable symlink (default: a fresh short temp dir, removed on stop). The link
   * must fit gpsd's device path limit (firmware-stubs/src/paths.ts): start() throws E_PATH otherwise.
   */
  dir?: string;
  linkName?: string;
  /** Epoch interval in ms (100 … 1000 for 10 … 1 Hz; PMTK220 accepts up to 10 000). Default 1000. */
  intervalMs?: number;
  sentences?: readonly SentenceType[];
  trajectory?: Trajectory;
  /** UTC ms of epoch 0 (default: clock.now() at start). */
  startTime?: number;
  seed?: number;
  /** Receiver noise σ in metres per unit HDOP (default 1.5). */
  noiseM?: number;
  /** Cold start: epochs without fix, then epochs of 2D, then 3D. Default 3 and 2. */
  coldStart?: { noFix: number; twoD: number };
  /** GGA quality when fixed (1 GPS, 2 DGPS). Default 1. */
  quality?: number;
  clock?: GnssClock;
  /** Run epochs on clock timers after start() (default true). false: the caller drives with step(). */
  autoRun?: boolean;
  faults?: readonly ScheduledFault[];
  logger?: Logger;
}

const MTK_SENTENCE_INDEX: Readonly<Record<number, SentenceType>> = { 0: 'GLL', 1: 'RMC', 2: 'VTG', 3: 'GGA', 4: 'GSA', 5: 'GSV', 17: 'ZDA' };

export class GnssEmulator extends EventEmitter {
  private readonly opts: GnssEmulatorOptions;
  private readonly clock: GnssClock;
  private readonly model: ReceiverModel;
  private readonly log: Logger;
  private dir = '';
  private ownDir = false;
  private pty: Pty | undefined;
  private out: PtyWriter | undefined;
  private timer: unknown;
  private running = false;
  private epoch = 0;
  private t0 = 0;
  private interval: number;
  private rates = new Map<SentenceType, number>();
  private pending: ScheduledFault[];
  private outage = 0;
  private silence = 0;
  private badChecksum = 0;
  private truncate = 0;
  private runTogether = 0;
  private garbageBytes = 0;
  private timeOffset = 0;
  private jump: { north: number; east: number; left: number } | undefined;
  private unpluggedFor = 0;
  private rx = '';

  constructor(options: GnssEmulatorOptions = {}) {
    super();
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.model = new ReceiverModel(options.seed ?? 1, options.noiseM ?? 1.5);
    this.log = options.logger ?? silentLogger;
    this.interval = options.intervalMs ?? 1000;
    this.setSentences(options.sentences ?? ALL_SENTENCES);
    this.pending = [...(options.faults ?? [])].sort((a, b) => a.atEpoch - b.atEpoch);
  }

  /** Stable device path (a symlink to the current PTY). Valid after start(). */
  get path(): string {
    return path.join(this.dir, this.opts.linkName ?? 'gnss0');
  }
  /** Current epoch interval in ms (changed by PMTK220). */
  get intervalMs(): number {
    return this.interval;
  }
  get plugged(): boolean {
    return this.pty !== undefined;
  }
  /** Number of epochs run so far. */
  get epochs(): number {
    return this.epoch;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.dir) this.dir = this.opts.dir;
    else {
      this.dir = shortDir('bk-gnss-');
      this.ownDir = true;
    }
    try {
      checkPathFits(this.path, 'gpsdDevice', 'GNSS emulator link');
    } catch (e) {
      this.running = false;
      if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
      throw e;
    }
    this.t0 = this.opts.startTime ?? this.clock.now();
    this.plug();
    if (this.opts.autoRun !== false) this.schedule();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.closePty();
    rmSync(this.path, { force: true });
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Applies a fault now (it takes effect from the next epoch). */
  inject(fault: GnssFault): void {
    this.emit('fault', fault);
    switch (fault.kind) {
      case 'outage':
        this.outage += fault.epochs;
        break;
      case 'silence':
        this.silence += fault.epochs;
        break;
      case 'bad-checksum':
        this.badChecksum += fault.count;
        break;
      case 'truncate':
        this.truncate += fault.count;
        break;
      case 'run-together':
        this.runTogether += fault.count;
        break;
      case 'garbage':
        this.garbageBytes += fault.bytes;
        break;
      case 'time-jump':
        this.timeOffset += fault.ms;
        break;
      case 'position-jump':
        this.jump = { north: fault.north, east: fault.east, left: fault.epochs ?? Infinity };
        break;
      case 'unplug':
        this.unplug();
        this.unpluggedFor = fault.epochs;
        break;
    }
  }

  /** Closes the PTY and removes the link: the device disappears. */
  unplug(): void {
    if (!this.pty) return;
    this.closePty();
    rmSync(this.path, { force: true });
    this.emit('unplug');
  }

  /** Opens a new PTY and points the same link at it: the device reappears. */
  replug(): void {
    if (this.pty || !this.running) return;
    this.plug();
    this.emit('replug', this.path);
  }

  /** Runs one epoch now: writes its sentences (after faults). Returns the bytes written (latin1). */
  step(): string {
    const n = this.epoch++;
    while (this.pending.length > 0 && this.pending[0]!.atEpoch <= n) this.inject(this.pending.shift()!.fault);
    if (!this.pty) {
      if (this.unpluggedFor > 0 && --this.unpluggedFor === 0) this.replug();
      return '';
    }
    const st = this.state(n);
    if (this.silence > 0) {
      this.silence--;
      this.emit('epoch', { index: n, state: st, written: '' });
      return '';
    }
    const enabled = (t: SentenceType) => {
      const r = this.rates.get(t) ?? 0;
      return r > 0 && n % r === 0;
    };
    const lines = this.model.sentences(st, n * this.interval, enabled);
    let out = '';
    if (this.garbageBytes > 0) {
      out += this.model.garbage(this.garbageBytes).toString('latin1');
      this.garbageBytes = 0;
    }
    for (let i = 0; i < lines.length; i++) {
      let l = lines[i]!;
      if (this.badChecksum > 0) {
        this.badChecksum--;
        const cs = l.slice(-4, -2);
        l = l.slice(0, -4) + ((parseInt(cs, 16) ^ 0x5a) & 0xff).toString(16).toUpperCase().padStart(2, '0') + '\r\n';
      } else if (this.truncate > 0) {
        this.truncate--;
        l = l.slice(0, Math.max(7, Math.floor(l.length / 2))) + '\r\n';
      } else if (this.runTogether > 0 && i + 1 < lines.length) {
        this.runTogether--;
        l = l.slice(0, Math.max(7, Math.floor(l.length * 0.6)));
      }
      out += l;
    }
    void this.out?.write(Buffer.from(out, 'latin1'));
    this.emit('epoch', { index: n, state: st, written: out });
    return out;
  }

  /**
   * Plays a captured NMEA log through the port (see ReplayOptions: speed factor or 'max', comment
   * pass-through). Resolves when every byte has been handed to the kernel.
   */
  async replay(text: string, options: ReplayOptions = {}): Promise<{ lines: number }> {
    const out = this.out;
    if (!out) throw new BeepkitError('E_IO', 'replay: emulator not started or unplugged');
    return replayLog(out, text, this.clock, options);
  }

  private state(n: number): EpochState {
    const elapsed = n * this.interval;
    const cold = this.opts.coldStart ?? { noFix: 3, twoD: 2 };
    let mode: 1 | 2 | 3 = n < cold.noFix ? 1 : n < cold.noFix + cold.twoD ? 2 : 3;
    if (this.outage > 0) {
      this.outage--;
      mode = 1;
    }
    const tr = this.opts.trajectory ?? [{ t: 0, lat: 52.0907, lon: 5.1214, alt: 10 }];
    const truth = trajectoryAt(tr, elapsed);
    const prev = trajectoryAt(tr, elapsed - this.interval);
    const geo = this.model.geometry(mode);
    let p = mode >= 2 ? this.model.noisy(truth, geo.hdop) : truth;
    if (this.jump && this.jump.left > 0) {
      this.jump.left--;
      p = { ...p, lat: p.lat + this.jump.north / 111_320, lon: p.lon + this.jump.east / (111_320 * Math.cos((p.lat * Math.PI) / 180)) };
    }
    const dn = (truth.lat - prev.lat) * 111_320;
    const de = (truth.lon - prev.lon) * 111_320 * Math.cos((truth.lat * Math.PI) / 180);
    const speed = Math.hypot(dn, de) / (this.interval / 1000);
    const track = speed > 0 ? ((Math.atan2(de, dn) * 180) / Math.PI + 360) % 360 : 0;
    return { time: this.t0 + elapsed + this.timeOffset, mode, quality: this.opts.quality ?? 1, position: p, speed, track, ...geo };
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return;
      try {
        this.step();
      } catch (e) {
        this.log.error({ err: e }, 'gnss emulator step failed');
      }
      this.schedule();
    }, this.interval);
  }

  private plug(): void {
    const pty = openPty();
    // termios ioctls on the master act on the pair: raw mode, so no echo and no CR/LF rewriting
    (pty.stream as tty.ReadStream).setRawMode(true);
    const out = new PtyWriter(pty.fd);
    pty.stream.on('data', (d: Buffer) => this.onHostBytes(out, d));
    this.pty = pty;
    this.out = out;
    const tmp = `${this.path}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(pty.path, tmp);
    renameSync(tmp, this.path);
    this.log.info({ path: this.path, pty: pty.path }, 'gnss emulator plugged');
  }

  private closePty(): void {
    this.out?.close();
    this.out = undefined;
    this.pty?.close();
    this.pty = undefined;
  }

  private setSentences(list: readonly SentenceType[]): void {
    this.rates = new Map(list.map((s) => [s, 1]));
  }

  private onHostBytes(out: PtyWriter, d: Buffer): void {
    this.rx += d.toString('latin1');
    if (this.rx.length > 4096) this.rx = this.rx.slice(-1024);
    let nl: number;
    while ((nl = this.rx.indexOf('\n')) >= 0) {
      const line = this.rx.slice(0, nl).trim();
      this.rx = this.rx.slice(nl + 1);
      if (line.startsWith('$PMTK')) this.command(out, line);
    }
  }

  /** MTK commands: 220 (fix interval ms), 314 (sentence output rates). Anything else is ignored. */
  private command(out: PtyWriter, line: string): void {
    let body: string;
    try {
      body = parseEnvelope(line).body;
    } catch {
      return; // a real receiver ignores a corrupted command
    }
    const [addr, ...f] = body.split(',');
    const cmd = Number(addr!.slice(4));
    if (cmd === 220) {
      const ms = Number(f[0]);
      if (!Number.isInteger(ms) || ms < 100 || ms > 10_000) return;
      this.interval = ms;
      if (this.timer !== undefined && this.opts.autoRun !== false) {
        this.clock.clearTimeout(this.timer);
        this.schedule();
      }
    } else if (cmd === 314) {
      if (f[0] === '-1') this.setSentences(ALL_SENTENCES);
      else {
        const rates = new Map<SentenceType, number>();
        f.forEach((v, i) => {
          const s = MTK_SENTENCE_INDEX[i];
          const r = Number(v);
          if (s && Number.isInteger(r) && r > 0 && r <= 5) rates.set(s, r);
        });
        this.rates = rates;
      }
    } else return;
    this.emit('command', { cmd, fields: f });
    void out.write(Buffer.from(encodeSentence('PMTK', '001', [cmd, 3]), 'latin1'));
  }
}
