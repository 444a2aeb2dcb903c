export * from './types.ts';
export * from './server.ts';
export * from './metrics.ts';
