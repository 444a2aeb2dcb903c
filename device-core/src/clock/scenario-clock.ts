/**
 * Scenario clocks: how a process run inside a simulated field trial (agent,
 * gateway, wearable) follows the sim's scenario time while its timers keep
 * real time. The `clock:` config (and `--clock-url`) of those apps is a
 * ClockSpec (@beepkit/protocol/clock-spec: the spec, its check and the linear
 * clock); this module adds the one that does I/O:
 *
 *  - `{ url, pollMs? }`: the sim's control API `GET …/clock` ({now, speed,
 *    paused}), polled every pollMs (infra/http-client.ts: node:http, not fetch); interpolated in between, so a paused sim
 *    is a paused clock, and it never steps back by less than a poll's worth
 *    of jitter.
 *  - `{ epochMs, wallMs, speed? }`: LinearClock.
 */
import { BeepkitError } from '@beepkit/protocol';
import { getJson } from '../infra/http-client.ts';
import { hostNow } from '@beepkit/protocol/clock';
import { LinearClock, type ClockSpec, type ScenarioClock } from '@beepkit/protocol/clock-spec';

interface Sample {
  now: number;
  speed: number;
  paused: boolean;
  at: number;
}

/** Follows a sim's control API clock (GET <url> → {now, speed, paused}). */
export class ControlApiClock implements ScenarioClock {
  #s?: Sample;
  #timer?: NodeJS.Timeout;
  constructor(
    private readonly url: string,
    private readonly pollMs = 500,
  ) {}

  get speed(): number {
    return this.#s?.speed ?? 1;
  }

  now(): number {
    const s = this.#s;
    if (!s) return hostNow();
    return s.paused ? s.now : Math.floor(s.now + (hostNow() - s.at) * s.speed);
  }

  async #sync(): Promise<void> {
    const t0 = hostNow();
    const j = (await getJson(this.url, 5000)) as { now?: unknown; speed?: unknown; paused?: unknown } | null;
    if (typeof j?.now !== 'number' || typeof j.speed !== 'number') throw new BeepkitError('E_FORMAT', `clock ${this.url}: no now/speed`);
    const next: Sample = { now: j.now, speed: j.speed, paused: j.paused === true, at: Math.round((t0 + hostNow()) / 2) };
    // never step backwards by less than a poll's worth of jitter
    const mine = this.#s ? this.now() : -Infinity;
    if (!next.paused && mine > next.now && mine - next.now < this.pollMs * next.speed) {
      next.now = mine;
      next.at = hostNow();
    }
    this.#s = next;
  }

  async start(): Promise<void> {
    try {
      await this.#sync();
    } catch (cause) {
      throw new BeepkitError('E_IO', `clock: cannot read ${this.url}: ${(cause as Error).message}`, { cause });
    }
    this.#timer = setInterval(() => void this.#sync().catch(() => {}), this.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The clock a `clock:` config asks for (undefined: the host clock); `defaultPollMs` when it names none. */
export function clockFromSpec(k: ClockSpec | undefined, defaultPollMs?: number): ScenarioClock | undefined {
  if (!k) return undefined;
  if (k.url) return new ControlApiClock(k.url, k.pollMs ?? defaultPollMs);
  return new LinearClock(k.epochMs!, k.speed ?? 1, k.wallMs!);
}
