/**
 * Publisher: applies `decidePublish` on each tick and keeps the open *stay*
 * (see decide.ts). A stay's TraceCode is sealed (through an injected function:
 * protocol's TraceCodeSealer for the day's pseudonym) when the stay ends, with
 * the geodata window [first, last time seen in the cell]:
 *   - 'moved': a decision found the device in another cell;
 *   - 'gap': an interval passed without a decision, or the UTC day changed;
 *   - 'cap': the stay reached `maxStayIntervals` intervals;
 *   - 'flush': `flush()` (the agent stopping).
 * So a stationary device produces no geodata while it stays (BeepTrace's
 * battery rule), yet the one TraceCode it seals tells the solver how long it
 * stayed. The price is latency: a stay reaches the ledger when it ends (at
 * most `maxStayIntervals` intervals late). A crash loses the open stay.
 * The TraceCode goes to a sink (the outbox, grouped by day); state advances
 * only after the sink resolved. Logs reasons and counts only, never
 * positions or prefixes. `counts.seal` counts TraceCodes sealed, `counts.open`
 * stays opened, the other keys decisions by reason.
 */
import { silentLogger, type Logger } from '@beepkit/protocol/log';
import type { Geodata } from '@beepkit/protocol/geodata';
import {
  DAY_MS,
  cellOf,
  decidePublish,
  maxStayIntervalsOf,
  type PublishDecision,
  type PublishInput,
  type PublishState,
  type PublisherConfig,
} from './decide.ts';

export interface PublisherOptions {
  config: PublisherConfig;
  seal: (day: number, interval: number, geodata: Geodata) => Uint8Array;
  sink: (traceCode: Uint8Array, day: number) => Promise<unknown>;
  state?: PublishState;
  logger?: Logger;
}

export type CloseReason = 'moved' | 'gap' | 'cap' | 'flush';

export class Publisher {
  private st: PublishState;
  private readonly log: Logger;
  readonly counts: Record<string, number> = {};

  constructor(private readonly opts: PublisherOptions) {
    this.st = opts.state ?? {};
    this.log = opts.logger ?? silentLogger;
    maxStayIntervalsOf(opts.config);
  }

  get state(): PublishState {
    return this.st;
  }

  #count(k: string): void {
    this.counts[k] = (this.counts[k] ?? 0) + 1;
  }

  async tick(input: PublishInput): Promise<PublishDecision> {
    const d = decidePublish(this.opts.config, this.st, input);
    const stay = this.st.stay;
    if (stay && (stay.day !== d.day || d.interval > stay.lastInterval + 1)) await this.#close('gap');
    if (d.reason !== 'seal') this.#count(d.reason);
    const placed = d.reason === 'seal' || d.reason === 'stationary' || d.reason === 'already-sealed';
    if (!placed || !input.fix || (d.reason !== 'already-sealed' && (!d.geodata || d.cell === undefined))) {
      this.log.debug({ reason: d.reason }, 'publisher: no TraceCode');
      return d;
    }
    const fix = input.fix;
    const open = (): void => {
      this.st = {
        last: { day: d.day, interval: d.interval, cell: d.cell! },
        stay: { day: d.day, interval: d.interval, lastInterval: d.interval, cell: d.cell!, geodata: d.geodata!, start: fix.start, end: fix.end },
      };
      this.#count('open');
    };
    if (d.reason === 'seal') {
      await this.#close('moved');
      open();
      return d;
    }
    const cur = this.st.stay;
    if (d.reason === 'stationary') {
      if (!cur) {
        open();
        return d;
      }
      this.st = { last: { day: d.day, interval: d.interval, cell: cur.cell }, stay: { ...cur, lastInterval: d.interval } };
    }
    const s = this.st.stay;
    // seen again in the stay's cell (same day): the stay lasts at least until now
    if (s && fix.end > s.end && Math.floor((fix.end * 1000) / DAY_MS) === s.day && (d.cell ?? cellOf(fix, this.opts.config.level)) === s.cell) {
      this.st = { ...this.st, stay: { ...s, end: fix.end } };
    }
    if (d.reason === 'stationary' && s && d.interval - s.interval + 1 > maxStayIntervalsOf(this.opts.config)) {
      // long stay: seal what it covered so far, go on with a new stay from now (a fresh interval number)
      await this.#close('cap');
      open();
    }
    return d;
  }

  /** Seals the open stay now (e.g. when the agent stops). */
  async flush(): Promise<void> {
    if (this.st.stay) await this.#close('flush');
  }

  async #close(reason: CloseReason): Promise<void> {
    const s = this.st.stay;
    if (!s) return;
    let tc: Uint8Array;
    try {
      tc = this.opts.seal(s.day, s.interval, { ...s.geodata, start: s.start, end: s.end });
    } catch (e) {
      // no key or certificate for that day any more: the stay cannot be published
      this.#count('lost');
      this.log.warn({ interval: s.interval, reason, err: (e as Error).message }, 'publisher: stay could not be sealed');
      this.st = { ...this.st, stay: undefined };
      return;
    }
    await this.opts.sink(tc, s.day); // a failing sink keeps the stay: the next tick retries
    this.#count('seal');
    this.log.info({ interval: s.interval, minutes: Math.round((s.end - s.start) / 60), reason }, 'publisher: TraceCode sealed');
    this.st = { ...this.st, stay: undefined };
  }
}
