export * from './auth.ts';
export * from './embedded.ts';
export * from './mosquitto.ts';
export * from './tls.ts';
export * from './log.ts';
