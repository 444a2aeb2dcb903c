/**
 * Scenario clocks: how a process run inside a simulated field trial (agent,
 * gateway, wearable) follows the sim's scenario time while its timers keep
 * real time. The `clock:` config (and `--clock-url`) of those apps is a
 * ClockSpec (@beepkit/protocol/clock-spec: the spec, its check and the linear
 * clock); this module adds the one that does I/O:
 *
 *  - `{ url, pollMs? }`: the sim's control API `GET …/clock` ({now, speed,
 *    paused}), polled every pollMs; interpolated in between, so a paused sim
 *    is a paused clock, and it never steps back by less than a poll's worth
 *    of jitter.
 *  - `{ epochMs, wallMs, speed? }`: LinearClock.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { BeepkitError } from '@beepkit/protocol';
import { hostNow } from '@beepkit/protocol/clock';
import { LinearClock, type ClockSpec, type ScenarioClock } from '@beepkit/protocol/clock-spec';

interface Sample {
  now: number;
  speed: number;
  paused: boolean;
  at: number;
}

/**
 * GET `url` (http:, or https: loaded when named) and parse its JSON body; E_IO for a failed request, a
 * status other than 200 or no answer within `timeoutMs`, E_FORMAT for a body that is not JSON. node:http,
 * not fetch(): fetch loads undici (its code and its WebAssembly HTTP parser: ~2 MB of a trial agent's
 * memory) for a poll of a few bytes twice a second (agent/README "Memory").
 */
export async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const get = new URL(url).protocol === 'https:' ? (await import('node:https')).get : httpGet;
  const body = await new Promise<string>((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new BeepkitError('E_IO', `${url}: HTTP ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text));
      res.on('error', (e) => reject(new BeepkitError('E_IO', `${url}: ${e.message}`, { cause: e })));
    });
    req.on('timeout', () => req.destroy(new BeepkitError('E_IO', `${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof BeepkitError ? e : new BeepkitError('E_IO', `${url}: ${e.message}`, { cause: e })));
  });
  try {
    return JSON.parse(body) as unknown;
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', `${url}: the answer is not JSON`, { cause });
  }
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
    if (typeof j !== 'object' || j === null) throw new BeepkitError('E_FORMAT', `clock ${this.url}: not a JSON object`);
    if (typeof j.now !== 'number' || typeof j.speed !== 'number') throw new BeepkitError('E_FORMAT', `clock ${this.url}: no now/speed`);
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
