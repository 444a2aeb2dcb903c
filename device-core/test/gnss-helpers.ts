// Test helpers for the GNSS tests: await an event or a condition (no fixed sleeps in assertions).
import type { EventEmitter } from 'node:events';
import { hostNow } from '@beepkit/protocol/clock';
import { spawn } from 'node:child_process';
import { checkPathFits } from '@beepkit/firmware-stubs/paths';
import { freePort } from '../../scripts/ports.ts';
import { requireTool } from '../../scripts/tools.ts';

/** Resolves with the first event `name` whose payload satisfies `pred`; rejects after `ms`. */
export function once<T>(
  em: { on(n: string, f: (x: T) => void): unknown; off(n: string, f: (x: T) => void): unknown } | EventEmitter,
  name: string,
  pred: (x: T) => boolean = () => true,
  ms = 30_000,
): Promise<T> {
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

/**
 * A real gpsd (`-N -n -b`) on a kernel-chosen port, fed by `device`. The device
 * path is checked against gpsd's limit first (E_PATH, not gpsd's own refusal);
 * `stderr` keeps what gpsd said. E_TOOL when gpsd is not installed.
 */
export async function startGpsd(device: string): Promise<{ port: number; stderr(): string; stop(): Promise<void> }> {
  checkPathFits(device, 'gpsdDevice', 'gpsd device');
  const bin = requireTool('gpsd', 'the gpsd source test');
  const port = await freePort();
  let err = '';
  const gpsd = spawn(bin, ['-N', '-n', '-b', '-D', '1', '-S', String(port), device], { stdio: ['ignore', 'ignore', 'pipe'] });
  gpsd.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 16_384) err += d;
  });
  const exited = new Promise<void>((r) => gpsd.once('exit', () => r()));
  return {
    port,
    stderr: () => err,
    async stop() {
      if (gpsd.exitCode === null && gpsd.signalCode === null) gpsd.kill('SIGTERM');
      await exited;
    },
  };
}
