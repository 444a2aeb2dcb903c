/**
 * Publisher: applies `decidePublish` on each tick, seals through an injected
 * function (protocol's TraceCodeSealer for the day's pseudonym) and hands the
 * TraceCode to a sink (the outbox, grouped by day). State advances only after
 * the sink resolved (i.e. the TraceCode is durably recorded). Logs reasons
 * and counts only, never positions or prefixes.
 */
import { silentLogger, type Logger } from '../alerts/logger.ts';
import type { Geodata } from '@beepkit/protocol/geodata';
import { decidePublish, type PublishDecision, type PublishInput, type PublishState, type PublisherConfig } from './decide.ts';

export interface PublisherOptions {
  config: PublisherConfig;
  seal: (day: number, interval: number, geodata: Geodata) => Uint8Array;
  sink: (traceCode: Uint8Array, day: number) => Promise<unknown>;
  state?: PublishState;
  logger?: Logger;
}

export class Publisher {
  private st: PublishState;
  private readonly log: Logger;
  readonly counts: Record<string, number> = {};

  constructor(private readonly opts: PublisherOptions) {
    this.st = opts.state ?? {};
    this.log = opts.logger ?? silentLogger;
  }

  get state(): PublishState {
    return this.st;
  }

  async tick(input: PublishInput): Promise<PublishDecision> {
    const d = decidePublish(this.opts.config, this.st, input);
    this.counts[d.reason] = (this.counts[d.reason] ?? 0) + 1;
    if (!d.seal || !d.geodata || d.cell === undefined) {
      this.log.debug({ reason: d.reason }, 'publisher: no TraceCode');
      return d;
    }
    const tc = this.opts.seal(d.day, d.interval, d.geodata);
    await this.opts.sink(tc, d.day);
    this.st = { last: { day: d.day, interval: d.interval, cell: d.cell } };
    this.log.info({ interval: d.interval }, 'publisher: TraceCode sealed');
    return d;
  }
}
