/**
 * The agent's time policy: how good its clock is, and the time it seals and
 * signs with. A Raspberry Pi has no real-time clock and boots at its last
 * saved time until NTP answers; a kit in a venue without network may never get
 * NTP. So the agent's clock is the host (or scenario) clock corrected by GNSS
 * time, and it knows its source:
 *
 *  - `scenario`: a simulated field trial's clock (trusted: it is the trial's truth);
 *  - `gnss`: GNSS time (RMC/ZDA date and time of a fix with mode ≥ 2) agreed
 *    with the host within `maxOffsetMs`, or the host was corrected to it: when
 *    `agree` consecutive fixes put the host off by more than `maxOffsetMs` (and
 *    agree with each other within `maxOffsetMs`), now() = host + offset, and the
 *    correction is logged once (offset only, never a position);
 *  - `ntp`: the host says it is NTP-synchronised (timedatectl), no GNSS time;
 *  - `host`: nothing says either way (no timedatectl answer, no GNSS yet), and the
 *    host clock is after the build date: trusted unless `require` says otherwise;
 *  - `unknown`: the host clock is before the build date, or NTP says it is not
 *    synchronised and no GNSS time came: not trusted.
 *
 * While time is not trusted the agent records but does not seal, upload or ask
 * for certificates (agent/src/time/backlog.ts keeps the ticks on the monotonic
 * clock and seals them under the right day and interval once time is good).
 * GNSS time is only as honest as the sky: a spoofed receiver moves the clock as
 * it moves the position (the trust module's cross-checks apply to both).
 */
import type { Logger } from '../alerts/logger.ts';

export type TimeSource = 'scenario' | 'gnss' | 'ntp' | 'host' | 'unknown';

export interface TimeProbes {
  /** timedatectl's NTPSynchronized: true, false, or undefined when the host cannot say. */
  ntpSynchronized(): Promise<boolean | undefined>;
}

export interface TimeKeeperOptions {
  /** The host clock (or a scenario clock, with `scenario: true`), ms. */
  host: () => number;
  /** Monotonic ms (performance.now), for ages and corrections. */
  mono: () => number;
  scenario?: boolean;
  /** A host/GNSS disagreement beyond this is corrected (ms, default 2000). */
  maxOffsetMs?: number;
  /** Consecutive GNSS fixes that must agree before a correction (default 3). */
  agree?: number;
  /** GNSS time older than this (monotonic) no longer vouches for the clock (default 1 h). */
  gnssTrustMs?: number;
  /** `gnss`: only GNSS time is trusted; `ntp`: GNSS or NTP; `auto` (default): also a host that cannot say. */
  require?: 'auto' | 'ntp' | 'gnss';
  /** Host clocks before this are never trusted (ms; default 2026-01-01). */
  buildDateMs?: number;
  probes?: TimeProbes;
  /** How often the NTP probe runs (ms, default 60 000). */
  probeEveryMs?: number;
  logger: Logger;
}

export interface TimeStatus {
  source: TimeSource;
  trusted: boolean;
  /** now() − host clock, ms (the GNSS correction applied). */
  offsetMs: number;
  /** Last measured GNSS − host (corrected) disagreement, ms, when GNSS time was seen. */
  gnssDeltaMs?: number;
  ntp?: boolean;
  corrections: number;
  reason: string;
  /** E_TIME_UNTRUSTED while not trusted: the code of every tick held. */
  code?: 'E_TIME_UNTRUSTED';
}

/** 2026-01-01T00:00:00Z: no agent built from this tree runs earlier. */
export const BUILD_DATE_MS = 1_767_225_600_000;

export class TimeKeeper {
  readonly #o: TimeKeeperOptions;
  #offset = 0;
  #pending: number[] = [];
  #gnssAt?: number;
  #gnssDelta?: number;
  #ntp?: boolean;
  #corrections = 0;
  #timer?: NodeJS.Timeout;
  #lastSource?: TimeSource;

  constructor(o: TimeKeeperOptions) {
    this.#o = o;
  }

  /** The time the agent seals and signs with, ms. */
  readonly now = (): number => this.#o.host() + this.#offset;

  async start(): Promise<void> {
    if (this.#o.scenario || !this.#o.probes) return;
    await this.#probe();
    this.#timer = setInterval(() => void this.#probe(), this.#o.probeEveryMs ?? 60_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #probe(): Promise<void> {
    const was = this.#ntp;
    this.#ntp = await this.#o.probes!.ntpSynchronized().catch(() => undefined);
    if (was !== this.#ntp) this.#report();
  }

  /**
   * A GNSS fix: `timeMs` is the receiver's UTC time, `receivedAt` this keeper's
   * now() when the epoch completed, `mode` the fix mode (time is only taken from a fix).
   */
  observeGnss(fix: { timeMs?: number; receivedAt: number; mode: number; status?: number }): void {
    if (this.#o.scenario || fix.timeMs === undefined || fix.mode < 2 || fix.status === 8) return;
    const delta = fix.timeMs - fix.receivedAt;
    const max = this.#o.maxOffsetMs ?? 2000;
    this.#gnssDelta = delta;
    if (Math.abs(delta) <= max) {
      this.#pending = [];
      this.#gnssAt = this.#o.mono();
      this.#report();
      return;
    }
    // a disagreement: correct only when `agree` consecutive fixes say the same
    if (this.#pending.length && Math.abs(this.#pending[this.#pending.length - 1] - delta) > max) this.#pending = [];
    this.#pending.push(delta);
    if (this.#pending.length < (this.#o.agree ?? 3)) return;
    this.#offset += delta;
    this.#pending = [];
    this.#gnssDelta = 0;
    this.#gnssAt = this.#o.mono();
    this.#corrections++;
    // the offset alone: no position, no key
    this.#o.logger.warn(
      { offsetS: Math.round(this.#offset / 1000), corrections: this.#corrections },
      'time: the host clock disagrees with GNSS time; sealing and signing with GNSS time',
    );
    this.#report();
  }

  get trusted(): boolean {
    return this.status().trusted;
  }

  status(): TimeStatus {
    const base = {
      offsetMs: this.#offset,
      corrections: this.#corrections,
      ...(this.#gnssDelta !== undefined ? { gnssDeltaMs: this.#gnssDelta } : {}),
      ...(this.#ntp !== undefined ? { ntp: this.#ntp } : {}),
    };
    if (this.#o.scenario) return { source: 'scenario', trusted: true, reason: 'the scenario clock', ...base };
    const fresh = this.#gnssAt !== undefined && this.#o.mono() - this.#gnssAt <= (this.#o.gnssTrustMs ?? 3_600_000);
    if (fresh) return { source: 'gnss', trusted: true, reason: this.#offset ? 'corrected to GNSS time' : 'GNSS time agrees', ...base };
    // a correction made once stays (the host clock did not learn it), but only vouches while fresh
    if (this.now() < (this.#o.buildDateMs ?? BUILD_DATE_MS))
      return { source: 'unknown', trusted: false, code: 'E_TIME_UNTRUSTED', reason: 'the clock is before the build date', ...base };
    const req = this.#o.require ?? 'auto';
    if (this.#ntp === true && req !== 'gnss') return { source: 'ntp', trusted: true, reason: 'NTP synchronised', ...base };
    if (this.#ntp === undefined && req === 'auto')
      return { source: 'host', trusted: true, reason: 'the host cannot say whether NTP is synchronised; no GNSS time', ...base };
    return {
      source: 'unknown',
      trusted: false,
      code: 'E_TIME_UNTRUSTED',
      reason: this.#ntp === false ? 'NTP not synchronised and no GNSS time' : `time.require is ${req} and no ${req === 'gnss' ? 'GNSS' : 'GNSS or NTP'} time`,
      ...base,
    };
  }

  #report(): void {
    const s = this.status();
    if (s.source === this.#lastSource) return;
    this.#lastSource = s.source;
    this.#o.logger.info({ source: s.source, trusted: s.trusted, reason: s.reason }, 'time: clock source');
  }
}
