/**
 * The logger shape every beepkit library accepts by injection: the subset of
 * pino's API they use. Apps pass a pino logger; libraries default to silent.
 */
export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

const noop = (): void => {};
export const silentLogger: Logger = { info: noop, warn: noop, error: noop, debug: noop };
