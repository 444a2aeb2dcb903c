/** Infrastructure shared by every workspace with I/O: durable file writes, backoff, HTTP helpers, logging. */
export * from './files.ts';
export * from './backoff.ts';
export * from './log.ts';
export * from './http.ts';
export * from './http-client.ts';
export * from './cli.ts';
export * from './yaml.ts';
export * from './config.ts';
export * from './native.ts';
export * from './lifecycle.ts';
