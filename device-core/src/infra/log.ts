/**
 * The one pino logger factory of the CLIs: JSON lines on stdout, the service
 * name in `svc`, and the listed fields removed wherever a caller passes them
 * (keys, secrets, positions: never in logs).
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** `destination`: where the lines go (default stdout; tests). */
export function createLogger(o: { service: string; level: LogLevel | string; redact: string[] }, destination?: DestinationStream): PinoLogger {
  const opts = { level: o.level, base: { svc: o.service }, redact: { paths: o.redact, remove: true } };
  return destination ? pino(opts, destination) : pino(opts);
}
