/**
 * Shared machinery of the GNSS sources: state, counters, the usable/stale rule, the NMEA line path
 * (the same pure decoder as `beepkit nmea decode`), silence detection and reconnect backoff.
 */
import { EventEmitter } from 'node:events';
import { NmeaLineDecoder, type NmeaFix } from '@beepkit/protocol/nmea';
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import type { GnssFix, GnssSource, GnssSourceEvents, GnssSourceKind, GnssState } from './types.ts';
import { hostNow } from '@beepkit/protocol/clock';

export interface GnssSourceBaseOptions {
  logger?: Logger;
  /** Host clock (ms), for receivedAt and maxAgeMs. */
  now: () => number;
  /** A fix whose time is further than this from the host clock is stale (off by default: replays are old). */
  maxAgeMs?: number;
  /** Reference date for time-only sentences (`YYYY-MM-DD`). */
  date?: string;
  /** No bytes for this long → state 'silent' and the open epoch is closed. Default 3000. */
  silenceMs?: number;
  /** Reconnect backoff: first delay, cap, factor. Default 100 ms, 5000 ms, 2. */
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
}

export abstract class GnssSourceBase extends EventEmitter<GnssSourceEvents> implements GnssSource {
  abstract readonly kind: GnssSourceKind;
  protected readonly log: Logger;
  protected readonly now: () => number;
  protected decoder: NmeaLineDecoder;
  private st: GnssState = 'closed';
  private readonly count: Record<string, number> = {};
  private lastTimeMs: number | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  protected stopped = true;

  constructor(protected readonly baseOpts: GnssSourceBaseOptions) {
    super();
    this.log = baseOpts.logger ?? silentLogger;
    this.now = baseOpts.now ?? hostNow;
    this.decoder = new NmeaLineDecoder({ date: baseOpts.date });
  }

  get state(): GnssState {
    return this.st;
  }
  get counters(): Readonly<Record<string, number>> {
    return { ...this.count };
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  protected bump(key: string, n = 1): void {
    this.count[key] = (this.count[key] ?? 0) + n;
  }

  protected setState(state: GnssState, reason: string): void {
    if (state === this.st) return;
    this.st = state;
    this.log.info({ state, reason }, 'gnss source state');
    this.emit('state', { state, reason });
  }

  /** Feeds one received NMEA line through the shared decode path. */
  protected onLine(line: string): void {
    this.bump('lines');
    const r = this.decoder.line(line);
    this.bump('sentences', r.sentences.length);
    for (const rej of r.rejects) {
      this.bump(rej.code);
      this.emit('reject', rej);
    }
    for (const f of r.fixes) this.emitFix(this.fromNmea(f));
  }

  /** Closes the open epoch (silence, end of input). */
  protected flushEpoch(): void {
    for (const f of this.decoder.flush()) this.emitFix(this.fromNmea(f));
  }

  private fromNmea(f: NmeaFix): GnssFix {
    const { sentences: _s, timeOfDayMs: _t, ...rest } = f;
    return { ...rest, source: this.kind, usable: false, receivedAt: this.now() };
  }

  /** Applies the usable rule and emits. */
  protected emitFix(fix: GnssFix): void {
    let reason: string | undefined;
    if (fix.mode < 2) reason = 'no-fix';
    else if (fix.lat === undefined || fix.lon === undefined || !Number.isFinite(fix.lat) || !Number.isFinite(fix.lon)) reason = 'no-position';
    else if (fix.timeMs === undefined) reason = 'no-time';
    else if (this.lastTimeMs !== undefined && fix.timeMs <= this.lastTimeMs) reason = 'stale';
    else if (this.baseOpts.maxAgeMs !== undefined && Math.abs(this.now() - fix.timeMs) > this.baseOpts.maxAgeMs) reason = 'stale';
    if (fix.timeMs !== undefined && (this.lastTimeMs === undefined || fix.timeMs > this.lastTimeMs)) this.lastTimeMs = fix.timeMs;
    fix.usable = reason === undefined;
    if (reason !== undefined) fix.reason = reason;
    this.bump('fixes');
    if (fix.usable) this.bump('usable');
    this.emit('fix', fix);
  }

  /** Call on every received byte burst: re-arms silence detection, leaves 'silent'. */
  protected activity(): void {
    if (this.st === 'silent') this.setState('open', 'data resumed');
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = undefined;
      if (this.st !== 'open') return;
      this.flushEpoch();
      this.setState('silent', `no bytes for ${this.silenceMs} ms`);
    }, this.silenceMs);
  }

  protected get silenceMs(): number {
    return this.baseOpts.silenceMs ?? 3000;
  }

  protected clearTimers(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.silenceTimer = undefined;
    this.retryTimer = undefined;
  }

  /** Connection lost or failed: state 'reconnecting', retry `connect` with exponential backoff. */
  protected scheduleReconnect(reason: string, connect: () => void): void {
    if (this.stopped) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    this.flushEpoch();
    this.setState('reconnecting', reason);
    const b = this.baseOpts.backoff ?? {};
    const delay = Math.min((b.initialMs ?? 100) * (b.factor ?? 2) ** this.attempt, b.maxMs ?? 5000);
    this.attempt++;
    this.bump('reconnects');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) connect();
    }, delay);
  }

  /** A connection succeeded: reset backoff. */
  protected connected(reason: string): void {
    this.attempt = 0;
    this.setState('open', reason);
    this.activity();
  }
}
