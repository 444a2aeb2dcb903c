/**
 * The clock check: the host clock against GNSS time (the last fix) and against NTP when a server
 * answers (a tiny SNTP exchange; skipped, and said so, when none does), and whether each offset is within
 * the gateway's skew tolerance (ingest.maxSkewSec, 300 s by default): beyond it, TraceCodes sealed on
 * the host clock are refused (E_WINDOW) or, worse, accepted under the wrong time.
 */
import { failed, pass, seconds, utc, type Verdict } from './check.ts';
import { sntpQuery } from './sntp.ts';

/** 2026-01-01T00:00:00Z: no kit built from this tree runs earlier (as agent/src/time/keeper.ts). */
const FLOOR_MS = 1_767_225_600_000;

export interface ClockInputs {
  now: () => number;
  /** GNSS − host, ms (undefined: no GNSS time). */
  gnssOffsetMs?: number;
  /** Why there is no GNSS time. */
  gnssWhy?: string;
  /** NTP server (host[:port]); undefined: not asked. */
  ntp?: string;
  ntpTimeoutMs: number;
  skewMs: number;
  /** The running agent's /status time (source, trusted, its correction). */
  agent?: { source: string; trusted: boolean; offsetMs: number; gnssDeltaMs?: number };
}

export async function checkClock(i: ClockInputs): Promise<Verdict> {
  const host = i.now();
  const parts = [`host ${utc(host)}`];
  const off: { what: string; ms: number }[] = [];
  if (i.gnssOffsetMs !== undefined) {
    off.push({ what: 'GNSS', ms: i.gnssOffsetMs });
    parts.push(`GNSS − host ${sign(i.gnssOffsetMs)}`);
  } else parts.push(`GNSS: ${i.gnssWhy ?? 'no GNSS time'}`);
  if (i.ntp) {
    try {
      const r = await sntpQuery(i.ntp, i.now, i.ntpTimeoutMs);
      off.push({ what: 'NTP', ms: r.offsetMs });
      parts.push(`NTP ${r.server} (stratum ${r.stratum}) − host ${sign(r.offsetMs)}, round trip ${Math.round(r.roundTripMs)} ms`);
    } catch (e) {
      parts.push(`NTP: skipped (${(e as Error).message})`);
    }
  } else parts.push('NTP: skipped (--ntp off)');
  if (i.agent) parts.push(`agent: time source ${i.agent.source}, ${i.agent.trusted ? 'trusted' : 'NOT trusted'}, correction ${sign(i.agent.offsetMs)}`);
  parts.push(`gateway skew tolerance ${seconds(i.skewMs)}`);
  const detail = parts.join('; ');
  if (host < FLOOR_MS)
    return failed(
      detail,
      `the host clock reads ${utc(host)}, before this kit was built: set it (timedatectl set-ntp true, or date -s) — a Pi without an RTC boots at its last saved time`,
    );
  const bad = off.filter((o) => Math.abs(o.ms) > i.skewMs);
  if (bad.length) {
    const worst = bad.reduce((a, b) => (Math.abs(b.ms) > Math.abs(a.ms) ? b : a));
    return failed(
      detail,
      `the host clock is ${seconds(Math.abs(worst.ms))} ${worst.ms > 0 ? 'behind' : 'ahead of'} ${worst.what} time, beyond the gateway's ${seconds(i.skewMs)}: turn on NTP (timedatectl set-ntp true) or set the clock; meanwhile the agent seals with GNSS time when it has a fix (time.require, agent/README.md "Time") and seals nothing without trustworthy time`,
    );
  }
  if (i.agent && !i.agent.trusted) return failed(detail, 'the running agent does not trust its clock (see /status time.reason): give it a GNSS fix or NTP');
  if (!off.length) return pass(`${detail}; unverified: no GNSS time and no NTP answer`);
  return pass(detail);
}

const sign = (ms: number): string => `${ms >= 0 ? '+' : '−'}${seconds(Math.abs(ms))}`;
