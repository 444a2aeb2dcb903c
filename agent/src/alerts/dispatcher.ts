/**
 * Delivers each new alert once to every sink. Identical alerts (same kind,
 * day, level) are delivered only once; a failing sink is logged (sink name and
 * error code only) and does not stop the others.
 */
import { silentLogger, type Logger } from './logger.ts';
import type { Alert } from './model.ts';
import type { AlertSink } from './sinks.ts';

export interface DispatchResult {
  delivered: number;
  duplicates: number;
  failures: { sink: string; code: string }[];
}

export const alertKey = (a: Alert): string => `${a.kind}|${a.day}|${a.level}`;

export class AlertDispatcher {
  private readonly seen: Set<string>;
  private readonly log: Logger;
  constructor(
    private readonly sinks: AlertSink[],
    opts: { logger?: Logger; seen?: Iterable<string> } = {},
  ) {
    this.log = opts.logger ?? silentLogger;
    this.seen = new Set(opts.seen ?? []);
  }

  /** Keys of alerts already delivered (persist them to survive restarts). */
  delivered(): string[] {
    return [...this.seen];
  }

  async dispatch(alerts: Alert[]): Promise<DispatchResult> {
    const res: DispatchResult = { delivered: 0, duplicates: 0, failures: [] };
    for (const a of alerts) {
      const k = alertKey(a);
      if (this.seen.has(k)) {
        res.duplicates++;
        continue;
      }
      this.seen.add(k);
      res.delivered++;
      const outcomes = await Promise.allSettled(this.sinks.map((s) => s.deliver(a)));
      outcomes.forEach((o, i) => {
        if (o.status === 'fulfilled') return;
        const code = (o.reason as { code?: string })?.code ?? 'E_IO';
        res.failures.push({ sink: this.sinks[i].name, code });
        this.log.warn({ sink: this.sinks[i].name, code, kind: a.kind }, 'alerts: delivery failed');
      });
    }
    return res;
  }
}
