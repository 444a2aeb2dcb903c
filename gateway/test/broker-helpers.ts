/** Shared fixtures of the broker/mqtt tests (not a test file itself). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE_PATTERNS, findMosquitto, hashPassword, isOwnClientId, killStartedMosquittos, type AclPolicy } from '../src/broker/index.ts';
import { GatewayMqtt, type GatewayMqttOptions } from '../src/mqtt.ts';

export const PASSWORDS: Record<string, string> = { gateway: 'gw-secret', dev1: 'pw-one', dev2: 'pw-two' };

/** Deterministic salts: tests are reproducible. */
export const CREDENTIALS: Record<string, string> = Object.fromEntries(
  Object.entries(PASSWORDS).map(([u, p], i) => [u, hashPassword(p, { salt: new Uint8Array(12).fill(i + 1) })]),
);

export const POLICY: AclPolicy = { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS };

export const MOSQUITTO = findMosquitto();

// tap ends a timed-out test file with a signal: take our mosquittos along.
for (const sig of ['SIGTERM', 'SIGALRM', 'SIGINT'] as const) {
  process.once(sig, () => {
    killStartedMosquittos();
    process.exit(1);
  });
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(os.tmpdir(), `beepkit-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A client of `user` with its password; not started. A device's id is made its own (`<user>:<id>`), as the embedded broker requires. */
export function client(url: string, user: string, id: string, extra: Partial<GatewayMqttOptions> = {}): GatewayMqtt {
  const clientId = user === 'gateway' || isOwnClientId(user, id) ? id : `${user}:${id}`;
  let seed = clientId.length;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const c = new GatewayMqtt({
    url,
    clientId,
    username: user,
    password: PASSWORDS[user],
    clean: true,
    random,
    backoff: { initialMs: 50, maxMs: 500 },
    ...extra,
  });
  c.on('error', () => {}); // asserted through start()/counters, not events
  return c;
}

/** `open(user, id)` starts a client on `url`; `stopAll()` stops every one opened. */
export function opener(url: string): { open(user: string, id: string, extra?: Partial<GatewayMqttOptions>): Promise<GatewayMqtt>; stopAll(): Promise<void> } {
  const started: GatewayMqtt[] = [];
  return {
    async open(user, id, extra = {}) {
      const c = client(url, user, id, extra);
      await c.start();
      started.push(c);
      return c;
    },
    async stopAll() {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}

export interface Received {
  topic: string;
  payload: string;
}

/** Collects messages, acking each at once; `waitFor(pred)` resolves when pred holds. */
export function collect(c: GatewayMqtt): { got: Received[]; waitFor(pred: (got: Received[]) => boolean): Promise<void> } {
  const got: Received[] = [];
  const waiters: { pred: (g: Received[]) => boolean; resolve(): void }[] = [];
  c.onMessage((topic, payload, ack) => {
    got.push({ topic, payload: payload.toString() });
    ack(true);
    for (const w of waiters.splice(0)) {
      if (w.pred(got)) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    got,
    waitFor: (pred) =>
      new Promise<void>((resolve) => {
        if (pred(got)) resolve();
        else waiters.push({ pred, resolve });
      }),
  };
}

/** A TCP port the kernel just handed out (for binaries that cannot listen on port 0 and report it, like mosquitto). */
export { freePort } from '../../scripts/ports.ts';
