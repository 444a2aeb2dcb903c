/**
 * The gateway's embedded aedes broker, from config: device credentials from
 * `broker.embedded.passwordFile`, the gateway's own user (a fresh password per
 * start), the limits against hostile clients, the gateway's client ids
 * reserved, and the optional TLS listener.
 */
import { readFileSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';
import { DEFAULT_DEVICE_PATTERNS, EmbeddedBroker, hashPassword, type Logger } from '../broker/index.ts';
import type { GatewayConfig } from './config.ts';

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `config broker.embedded.${what}: cannot read ${path}`, { cause });
  }
}

export async function startEmbeddedBroker(cfg: GatewayConfig, gatewayPassword: string, logger: Logger, now: () => number): Promise<EmbeddedBroker> {
  const b = cfg.broker;
  const creds: Record<string, string> = {};
  if (b.embedded.passwordFile) {
    for (const line of read(b.embedded.passwordFile, 'passwordFile').toString('utf8').split('\n')) {
      const at = line.indexOf(':');
      if (at > 0 && !line.startsWith('#')) creds[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  creds[b.username] = hashPassword(gatewayPassword, { iterations: 1000 });
  const t = b.embedded.tls;
  const broker = new EmbeddedBroker({
    host: b.embedded.host,
    port: b.embedded.port,
    credentials: creds,
    acl: { superusers: [b.username], patterns: DEFAULT_DEVICE_PATTERNS },
    logger,
    now,
    limits: b.embedded.limits,
    reservedClientIds: [b.clientId, ...Array.from({ length: b.connections }, (_, k) => `${b.clientId}-${k}`)],
    ...(t ? { tls: { host: t.host, port: t.port, cert: read(t.certFile, 'tls.certFile'), key: read(t.keyFile, 'tls.keyFile'), ca: t.caFile ? read(t.caFile, 'tls.caFile') : undefined, requestCert: t.requestClientCert } } : {}),
  });
  await broker.start();
  return broker;
}
