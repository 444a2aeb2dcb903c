/**
 * The carer page (agent/README.md "Carer page"), wired by the agent when it
 * acts as a carer: the page on the loopback API, and in LAN mode its own
 * HTTPS server with the kit's certificate.
 */
import type { Logger } from '../alerts/logger.ts';
import type { AgentConfig } from '../config/index.ts';
import type { AgentCarer } from '../app/carer.ts';
import { ensureCarerToken, ensureKitCertificate, kitNames } from './access.ts';
import { CarerAlertLog } from './alert-log.ts';
import { CarerPage, isPagePath } from './page.ts';
import { startLanServer, type LanServer } from './lan.ts';
import { systemTimeZone } from './time-zone.ts';

export { CarerAlertLog, CarerPage, isPagePath, startLanServer, systemTimeZone };
export * from './access.ts';
export * from './words.ts';
export { lanRefusal } from './lan.ts';

export interface CarerPageRun {
  page: CarerPage;
  /** The LAN server (carer.page.lan), when on. */
  lan?: LanServer;
  close(): Promise<void>;
}

/** The page's time zone: carer.page.timeZone, else the system's (time-zone.ts: no ICU on a UTC system). */
export const pageTimeZone = (cfg: AgentConfig): string => cfg.carer.page.timeZone ?? systemTimeZone();

export async function startCarerPage(o: {
  config: AgentConfig;
  carer: AgentCarer;
  alerts: CarerAlertLog;
  now: () => number;
  logger: Logger;
  refused?(code: string): void;
}): Promise<CarerPageRun> {
  const cfg = o.config;
  const page = new CarerPage({
    carer: o.carer,
    alerts: o.alerts,
    token: await ensureCarerToken(cfg.dataDir),
    now: o.now,
    timeZone: pageTimeZone(cfg),
    refused: o.refused,
  });
  let lan: LanServer | undefined;
  if (cfg.carer.page.lan) {
    const cert = await ensureKitCertificate(cfg.dataDir, kitNames(cfg.carer.page.names));
    lan = await startLanServer(page, {
      host: cfg.carer.page.host,
      port: cfg.carer.page.port,
      cert,
      requestTimeoutMs: cfg.http.requestTimeoutMs,
      refused: o.refused,
    });
    o.logger.info({ carerPage: lan.port, host: cfg.carer.page.host, fingerprint: cert.fingerprint }, 'carer page: serving on the LAN over TLS');
  }
  return { page, lan, close: async () => lan?.close() };
}
