export * from './trace.ts';
export * from './replay.ts';
