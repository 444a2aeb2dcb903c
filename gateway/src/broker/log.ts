/** pino-compatible logger subset that gateway libraries accept by injection. */
export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: Logger = { info: noop, warn: noop, error: noop, debug: noop };
