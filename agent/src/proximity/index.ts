export * from './estimator.ts';
export * from './trace.ts';
export * from './replay.ts';
