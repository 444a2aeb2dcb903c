/**
 * Trust state machine: untrusted → trusted → lost → trusted … Recording never
 * stops; publishing (CA requests, TraceCode uploads) is allowed only while
 * trusted. A disagreement or a verdict older than the TTL loses trust;
 * `regainAfter` consecutive agreements regain it. Pure, time injected.
 */
import { silentLogger, type Logger } from '../alerts/logger.ts';
import type { TrustReason, TrustVerdict } from './verify.ts';

export type TrustState = 'untrusted' | 'trusted' | 'lost';

export interface TrustMachineOptions {
  /** Trust lapses this long after the last agreement (default 10 min). */
  ttlMs?: number;
  /** Consecutive agreements needed to (re)gain trust (default 1 from untrusted, 2 from lost). */
  gainAfter?: number;
  regainAfter?: number;
  logger?: Logger;
}

export interface TrustTransition {
  from: TrustState;
  to: TrustState;
  at: number;
  reason: TrustReason | 'E_TRUST_EXPIRED' | 'agree';
}

/** Transitions kept in `TrustMachine.transitions` (the newest; an agent runs for months). */
export const TRUST_TRANSITIONS_KEPT = 32;

export class TrustMachine {
  state: TrustState = 'untrusted';
  readonly counters: Record<string, number> = {};
  /** The last TRUST_TRANSITIONS_KEPT transitions, oldest first. */
  readonly transitions: TrustTransition[] = [];
  private streak = 0;
  private lastAgree = -Infinity;
  private readonly ttl: number;
  private readonly gain: number;
  private readonly regain: number;
  private readonly log: Logger;

  constructor(opts: TrustMachineOptions = {}) {
    this.ttl = opts.ttlMs ?? 600_000;
    this.gain = opts.gainAfter ?? 1;
    this.regain = opts.regainAfter ?? 2;
    this.log = opts.logger ?? silentLogger;
  }

  /** Publishing is allowed only while trusted (and not expired at `now`). */
  canPublish(now: number): boolean {
    this.tick(now);
    return this.state === 'trusted';
  }

  /** Recording (scanning, encounters, visits) always continues. */
  get recording(): true {
    return true;
  }

  private move(to: TrustState, at: number, reason: TrustTransition['reason']): void {
    if (to === this.state) return;
    const t = { from: this.state, to, at, reason };
    this.transitions.push(t);
    if (this.transitions.length > TRUST_TRANSITIONS_KEPT) this.transitions.splice(0, this.transitions.length - TRUST_TRANSITIONS_KEPT);
    this.log.info(t, `trust ${t.from} -> ${t.to}`);
    this.state = to;
  }

  /** Expires trust whose last agreement is older than the TTL. */
  tick(now: number): void {
    if (this.state === 'trusted' && now - this.lastAgree > this.ttl) {
      this.count('E_TRUST_EXPIRED');
      this.move('lost', now, 'E_TRUST_EXPIRED');
      this.streak = 0;
    }
  }

  private count(code: string): void {
    this.counters[code] = (this.counters[code] ?? 0) + 1;
  }

  /** Feeds a verdict taken at `now`. Returns the state after it. */
  observe(v: TrustVerdict, now: number): TrustState {
    this.tick(now);
    if (v.ok) {
      this.count('agree');
      this.streak++;
      this.lastAgree = now;
      const need = this.state === 'lost' ? this.regain : this.gain;
      if (this.state !== 'trusted' && this.streak >= need) this.move('trusted', now, 'agree');
      return this.state;
    }
    this.count(v.reason);
    this.streak = 0;
    this.log.warn({ reason: v.reason, detail: v.detail }, 'trust: cross-verification refused');
    // a disagreement is evidence of spoofing or a wrong source: trust goes at once
    if (v.reason === 'E_TRUST_DISAGREE' && this.state === 'trusted') this.move('lost', now, v.reason);
    return this.state;
  }
}
