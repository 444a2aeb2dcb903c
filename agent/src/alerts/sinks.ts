/**
 * Alert delivery: logger, status snapshot, local webhook (HTTP POST with
 * bounded retries; a 2xx answer delivers, redirects are not followed), command hook (alert JSON on stdin) and a callback (the
 * carer's MQTT alert). Every sink receives only the Alert (no identifiers).
 */
import { spawn } from 'node:child_process';
import { BeepkitError } from '@beepkit/protocol/errors';
import { httpRequest } from '@beepkit/device-core/infra/http-client';
import type { Logger } from './logger.ts';
import type { Alert } from './model.ts';

export interface AlertSink {
  readonly name: string;
  deliver(alert: Alert): Promise<void>;
}

export class LoggerSink implements AlertSink {
  readonly name = 'log';
  constructor(private readonly log: Logger) {}
  async deliver(a: Alert): Promise<void> {
    this.log.warn(
      { alert: { kind: a.kind, level: a.level, date: a.date, minutes: a.minutes, distanceM: a.distanceM, probability: a.probability } },
      a.explanation,
    );
  }
}

export interface StatusSnapshot {
  level: 'none' | 'low' | 'high';
  count: number;
  alerts: Alert[];
}

export class StatusSink implements AlertSink {
  readonly name = 'status';
  private readonly alerts: Alert[] = [];
  constructor(private readonly keep = 50) {}
  async deliver(a: Alert): Promise<void> {
    this.alerts.push(a);
    if (this.alerts.length > this.keep) this.alerts.shift();
  }
  snapshot(): StatusSnapshot {
    const level = this.alerts.some((a) => a.level === 'high') ? 'high' : this.alerts.length ? 'low' : 'none';
    return { level, count: this.alerts.length, alerts: this.alerts.map((a) => ({ ...a })) };
  }
}

export interface WebhookOptions {
  url: string;
  /** Attempts in total (default 3). */
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class WebhookSink implements AlertSink {
  readonly name = 'webhook';
  constructor(private readonly o: WebhookOptions) {
    if (!/^https?:\/\//.test(o.url)) throw new BeepkitError('E_CONFIG', 'webhook: url must be http(s)');
  }
  async deliver(a: Alert): Promise<void> {
    const attempts = this.o.attempts ?? 3;
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if (i) await sleep((this.o.backoffMs ?? 500) * 2 ** (i - 1));
      try {
        // node:http, not fetch() (device-core infra/http-client.ts: fetch loads undici, ~8 MB of an agent)
        const res = await httpRequest(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(a),
          timeoutMs: this.o.timeoutMs ?? 10_000,
        });
        if (res.status >= 200 && res.status < 300) return;
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    throw new BeepkitError('E_IO', `webhook: gave up after ${attempts} attempts (${last})`);
  }
}

export interface CommandOptions {
  command: string;
  args?: string[];
  timeoutMs?: number;
}

export class CommandSink implements AlertSink {
  readonly name = 'command';
  constructor(private readonly o: CommandOptions) {}
  deliver(a: Alert): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.command, this.o.args ?? [], { stdio: ['pipe', 'ignore', 'ignore'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.o.timeoutMs ?? 30_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new BeepkitError('E_IO', `command hook: ${e.message}`, { cause: e }));
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new BeepkitError('E_IO', `command hook exited with ${code ?? sig}`));
      });
      child.stdin.on('error', () => {}); // a hook that does not read stdin is fine; its exit code decides
      child.stdin.end(JSON.stringify(a) + '\n');
    });
  }
}

/** The carer's MQTT alert (the MQTT client lives elsewhere). */
export class CallbackSink implements AlertSink {
  constructor(
    readonly name: string,
    private readonly fn: (a: Alert) => void | Promise<void>,
  ) {}
  async deliver(a: Alert): Promise<void> {
    await this.fn(a);
  }
}
