/**
 * Pairing mode as a short window (Bluetooth's guidance: limit repeated attempts). It opens when the
 * wearable is ready to pair and ends at the first of: `windowMs` elapsed (default 2 minutes), a failed
 * confirmation (any failure once the code was shown: the wearable's user said no, the carer's user
 * said no, a confirmation that does not open, the link lost), or E_COMMIT (a carer whose reveal does
 * not match its commitment). Every failed attempt is counted and logged (code and count only). A
 * relay in the middle gets one code comparison per window instead of unlimited tries.
 */
import { EventEmitter } from 'node:events';
import { silentLogger, type Logger } from './state.ts';

export const DEFAULT_PAIRING_WINDOW_MS = 120_000;

export type PairingEnd = 'timeout' | 'failed-confirmation' | 'commitment' | 'paired';

export interface PairingWindowEvents {
  closed: [{ reason: PairingEnd; failures: number }];
}

export class PairingWindow extends EventEmitter<PairingWindowEvents> {
  readonly windowMs: number;
  private until = -Infinity;
  private ended?: PairingEnd;
  private timer?: NodeJS.Timeout;
  failures = 0;
  /** Attempts under way: the window does not end under a user comparing codes; it ends when they settle. */
  private busy = 0;
  private readonly log: Logger;

  /** `now`: a monotonic ms clock (injected: tests move it; the CLI gives real time, not the scenario's). */
  constructor(private readonly o: { now: () => number; windowMs?: number; logger?: Logger }) {
    super();
    this.windowMs = o.windowMs ?? DEFAULT_PAIRING_WINDOW_MS;
    if (!Number.isInteger(this.windowMs) || this.windowMs <= 0) throw new RangeError(`pairing window ${this.windowMs} ms`);
    this.log = o.logger ?? silentLogger;
  }

  /** Opens the window now; `timers` also closes it by a timer when it elapses (the CLI; tests move the clock). */
  open(timers = false): void {
    this.until = this.o.now() + this.windowMs;
    this.ended = undefined;
    if (timers) {
      this.timer = setTimeout(() => this.busy === 0 && this.allowed(), this.windowMs + 1);
      this.timer.unref();
    }
    this.log.info({ windowMs: this.windowMs }, 'wearable: pairing mode open');
  }

  /** Whether a carer may start a pairing now (closes the window when its time is up). */
  allowed(): boolean {
    if (this.ended || this.until === -Infinity) return false;
    if (this.o.now() >= this.until) {
      if (this.busy === 0) this.close('timeout'); // else it ends when the attempt under way settles
      return false;
    }
    return true;
  }

  get closedReason(): PairingEnd | undefined {
    return this.ended;
  }

  /** A pairing attempt began (it may finish after the window's time: it started within it). */
  started(): void {
    this.busy++;
  }

  /** A pairing attempt failed: counted and logged; a failed confirmation or E_COMMIT closes the window. */
  failed(f: { code: string; afterCode: boolean }): void {
    this.busy = Math.max(0, this.busy - 1);
    this.failures++;
    this.log.warn({ code: f.code, afterCode: f.afterCode, failures: this.failures }, 'wearable: pairing attempt failed');
    if (f.code === 'E_COMMIT') this.close('commitment');
    else if (f.afterCode) this.close('failed-confirmation');
    else if (this.busy === 0) this.allowed(); // its time may have run out meanwhile
  }

  /** Paired: the window's job is done. */
  paired(): void {
    this.busy = Math.max(0, this.busy - 1);
    this.close('paired');
  }

  private close(reason: PairingEnd): void {
    if (this.ended) return;
    this.ended = reason;
    clearTimeout(this.timer);
    this.log.info({ reason, failures: this.failures }, 'wearable: pairing mode ended');
    this.emit('closed', { reason, failures: this.failures });
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
