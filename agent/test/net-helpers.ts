/** Shared fixtures of the agent's network tests (not a test file): real mosquitto, real Gateway, device keys. */
import { hostNow } from '@beepkit/protocol/clock';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '@beepkit/protocol/cert';
import { createKeystore, deriveDayKeys, type DayKeys } from '@beepkit/protocol/keys';
import { encodeTraceCode } from '@beepkit/protocol/tracecode';
import { DEFAULT_DEVICE_PATTERNS, hashPassword, MosquittoRunner } from '@beepkit/gateway/broker';
import { Gateway, resolveConfig } from '@beepkit/gateway/app';
import { AgentMqtt, type AgentMqttOptions } from '@beepkit/device-core/mqtt';
import { mulberry32 } from '@beepkit/device-core/rssi';

export const DAY = 86_400;
export const GW_PASSWORD = 'gw-test-secret';
export const devicePassword = (id: string): string => `pw-${id}`;

/** Deterministic PRNG (mulberry32). */
export const prng = mulberry32;

export function bytesFrom(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(os.tmpdir(), `beepkit-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real mosquitto with the gateway user and `devices` as users. */
export function mosquitto(dir: string, port: number, devices: string[], persistence = false): MosquittoRunner {
  const credentials: Record<string, string> = { gateway: hashPassword(GW_PASSWORD, { iterations: 1000 }) };
  for (const d of devices) credentials[d] = hashPassword(devicePassword(d), { iterations: 1000 });
  return new MosquittoRunner({ dir, port, credentials, acl: { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS }, queues: 'tuned', persistence });
}

/** The real gateway service on an external broker (one connection). */
/** One MQTT client id per gateway data dir (a restarted gateway resumes its session), not per port. */
const gatewayIds = new Map<string, number>();
const gatewayId = (dataDir: string): number => gatewayIds.get(dataDir) ?? (gatewayIds.set(dataDir, gatewayIds.size + 1), gatewayIds.size);
/** `httpPort` 0: kernel-chosen (read `gw.httpPort`). */
export async function startGateway(dataDir: string, url: string, httpPort: number, now: () => number = hostNow): Promise<Gateway> {
  const config = resolveConfig({
    dataDir,
    broker: { url, password: GW_PASSWORD, username: 'gateway', clientId: `gw-agent-test-${gatewayId(dataDir)}`, connections: 1 },
    http: { port: httpPort },
    log: { level: 'silent' },
  });
  const gw = new Gateway({ config, now });
  await gw.start();
  return gw;
}

export function deviceMqtt(url: string, deviceId: string, seed = 1, extra: Partial<AgentMqttOptions> = {}): AgentMqtt {
  return new AgentMqtt({
    url,
    deviceId,
    password: devicePassword(deviceId),
    agentVersion: 'test',
    backoff: { initialMs: 50, maxMs: 500 },
    random: prng(seed),
    ...extra,
  });
}

/** The agent's key schedule from a fixed master (as KeystoreFile.dayKeys would give). */
export function dayKeySource(seed: number, fromDay: number): (day: number) => DayKeys {
  const state = createKeystore(bytesFrom(prng(seed), 32), fromDay, { retentionDays: 60 });
  const cache = new Map<number, DayKeys>();
  return (day) => {
    let k = cache.get(day);
    if (!k) cache.set(day, (k = deriveDayKeys(state, day)));
    return k;
  };
}

/** A device certificate for `pseudonym` on `day`, valid from the day's start to `notAfter`, signed by the gateway's CA. */
export function certify(gw: Gateway, pseudonym: Uint8Array, day: number, notAfter: number): Uint8Array {
  return issueCertificate(gw.keys.ca, {
    role: 'device',
    serial: day,
    day,
    notBefore: day * DAY,
    notAfter,
    subject: pseudonym,
    solverKeyId: gw.keys.solverKeyId,
    region: 'test',
  }).bytes;
}

/** A synthetic TraceCode (random ciphertext) for `prefix` and `interval`. */
export function traceCode(rand: () => number, prefix: Uint8Array, interval: number): Uint8Array {
  return encodeTraceCode({ version: 1, prefix, interval, salt: bytesFrom(rand, 8), ciphertext: bytesFrom(rand, 46) });
}

/** Resolves on the first `event` of `em` satisfying `pred`. */
export function once<T>(
  em: { on(e: string, f: (x: T) => void): unknown; off(e: string, f: (x: T) => void): unknown },
  event: string,
  pred: (x: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const f = (x: T): void => {
      if (!pred(x)) return;
      em.off(event, f);
      resolve(x);
    };
    em.on(event, f);
  });
}
