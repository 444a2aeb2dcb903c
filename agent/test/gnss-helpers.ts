// Test helpers for the GNSS tests: await an event or a condition (no fixed sleeps in assertions).
import type { EventEmitter } from 'node:events';
import { hostNow } from '@beepkit/protocol/clock';

/** Resolves with the first event `name` whose payload satisfies `pred`; rejects after `ms`. */
export function once<T>(em: { on(n: string, f: (x: T) => void): unknown; off(n: string, f: (x: T) => void): unknown } | EventEmitter, name: string, pred: (x: T) => boolean = () => true, ms = 30_000): Promise<T> {
  const e = em as EventEmitter;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      e.off(name, h);
      reject(new Error(`timeout waiting for ${name}`));
    }, ms);
    const h = (x: T) => {
      if (!pred(x)) return;
      clearTimeout(timer);
      e.off(name, h);
      resolve(x);
    };
    e.on(name, h);
  });
}

/** Polls `cond` every 10 ms until true; rejects after `ms` with `why()`. */
export async function until(cond: () => boolean, ms = 30_000, why: () => string = () => ''): Promise<void> {
  const end = hostNow() + ms;
  while (!cond()) {
    if (hostNow() > end) throw new Error(`condition not met in ${ms} ms ${why()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
