/**
 * The uplink check: the broker answers a CONNECT with these credentials and this TLS (a short-lived
 * client of its own id, no subscription, nothing published), then the outbox depth and its oldest item,
 * and the last receipt (known to a running agent: /status upload.lastReceiptMs).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { connectMqttOnce } from '@beepkit/device-core/mqtt';
import type { AgentConfig } from '../config/index.ts';
import { errorText, failed, pass, within, type Verdict } from './check.ts';

/** A CONNECT to the configured broker: undefined when accepted, else why not. */
export async function brokerReachable(cfg: AgentConfig, deviceId: string, timeoutMs: number): Promise<string | undefined> {
  const b = cfg.broker;
  try {
    const opts: IClientOptions = {
      clientId: `${deviceId}-doctor-${randomBytes(3).toString('hex')}`,
      username: b.username ?? deviceId,
      password: b.password ?? (b.passwordFile ? readFileSync(b.passwordFile, 'utf8').trim() : undefined),
      ...(b.caFile ? { ca: readFileSync(b.caFile) } : {}),
      rejectUnauthorized: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      clean: true,
    };
    const client = await within(connectMqttOnce(b.url!, opts), timeoutMs, `broker ${b.url}`);
    await client.endAsync(true).catch(() => {});
    return undefined;
  } catch (e) {
    return errorText(e);
  }
}

export interface UplinkFacts {
  /** "outbox 3 items, oldest …" or why unknown. */
  outbox: string;
  /** e.g. "last receipt 2.0 min ago", or why unknown. */
  receipt: string;
}

export async function checkUplink(
  cfg: AgentConfig,
  configPath: string,
  deviceId: string,
  timeoutMs: number,
  facts: () => Promise<UplinkFacts>,
): Promise<Verdict> {
  if (!cfg.broker.url) return pass('no broker configured (broker.url): this kit records and keeps everything, uploads nothing');
  const [why, f] = await Promise.all([
    brokerReachable(cfg, deviceId, timeoutMs),
    facts().catch((e: unknown) => ({ outbox: `outbox unreadable (${errorText(e)})`, receipt: 'last receipt unknown' })),
  ]);
  const detail = `broker ${cfg.broker.url} ${why ? `NOT reachable: ${why}` : `accepts ${cfg.broker.username ?? deviceId}`}${cfg.broker.caFile ? ` over TLS (CA ${cfg.broker.caFile})` : ''}; ${f.outbox}; ${f.receipt}`;
  if (why) {
    const auth = /not authori[sz]ed|bad user ?name or password|Connection refused: (Bad|Not)/i.test(why);
    const tls = /certificate|self[- ]signed|TLS|SSL/i.test(why);
    const file = /ENOENT|EACCES/.test(why);
    return failed(
      detail,
      file
        ? `a file the config names cannot be read (broker.passwordFile / broker.caFile in ${configPath}): ${why}`
        : auth
          ? `the broker refused these credentials: broker.username / password / passwordFile in ${configPath} must be the device's (beepkit gateway device add)`
          : tls
            ? `TLS failed: broker.caFile must be the CA that signed the broker's certificate, and the URL's host name must match it`
            : `is the gateway's broker up and reachable from here (${cfg.broker.url})? Check the network, the port and a firewall; records wait in the outbox meanwhile`,
    );
  }
  return pass(detail);
}
