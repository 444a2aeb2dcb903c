/**
 * The gateway's embedded aedes broker, from config: device credentials from
 * `broker.embedded.passwordFile` (reloaded when it changes), the gateway's own
 * user (a fresh password per start), the limits against hostile clients, the gateway's client ids
 * reserved, and the optional TLS listener.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';
import { DEFAULT_DEVICE_PATTERNS, EmbeddedBroker, hashPassword, type Logger } from '../broker/index.ts';
import type { GatewayConfig } from './config.ts';
import { changeWatcher } from './devices.ts';

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `config broker.embedded.${what}: cannot read ${path}`, { cause });
  }
}

/** The device credentials of `broker.embedded.passwordFile` (none without it), plus the gateway's own user. */
function credentials(cfg: GatewayConfig, gatewayHash: string): Record<string, string> {
  const b = cfg.broker;
  const creds: Record<string, string> = {};
  // A password file that does not exist yet means no devices yet: `beepkit gateway device add` creates it, and the
  // running gateway picks it up (reloadIfChanged). Any other read error is E_CONFIG.
  if (b.embedded.passwordFile && existsSync(b.embedded.passwordFile)) {
    for (const line of read(b.embedded.passwordFile, 'passwordFile').toString('utf8').split('\n')) {
      const at = line.indexOf(':');
      if (at > 0 && !line.startsWith('#')) creds[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  creds[b.username] = gatewayHash;
  return creds;
}

export interface StartedBroker {
  broker: EmbeddedBroker;
  /**
   * Re-reads the password file when it changed since the last call (`beepkit gateway device add|revoke`):
   * new devices may log in, removed ones are disconnected. Returns whether it reloaded.
   */
  reloadIfChanged(): boolean;
}

export async function startEmbeddedBroker(cfg: GatewayConfig, gatewayPassword: string, logger: Logger, now: () => number): Promise<StartedBroker> {
  const b = cfg.broker;
  const gatewayHash = hashPassword(gatewayPassword, { iterations: 1000 });
  const changed = b.embedded.passwordFile ? changeWatcher(b.embedded.passwordFile) : () => false;
  const creds = credentials(cfg, gatewayHash);
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
    ...(t
      ? {
          tls: {
            host: t.host,
            port: t.port,
            cert: read(t.certFile, 'tls.certFile'),
            key: read(t.keyFile, 'tls.keyFile'),
            ca: t.caFile ? read(t.caFile, 'tls.caFile') : undefined,
            requestCert: t.requestClientCert,
          },
        }
      : {}),
  });
  await broker.start();
  const reloadIfChanged = (): boolean => {
    if (!changed()) return false;
    const next = credentials(cfg, gatewayHash);
    const closed = broker.setCredentials(next);
    logger.info({ users: Object.keys(next).length, closed }, 'broker: password file reloaded');
    return true;
  };
  return { broker, reloadIfChanged };
}
