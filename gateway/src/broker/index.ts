export * from './auth.ts';
export * from './embedded.ts';
export * from './guard.ts';
export * from './limits.ts';
export * from './mosquitto.ts';
export * from './tls.ts';
export * from './log.ts';
export * from './clock.ts';
