export * from './types.ts';
export * from './pipeline.ts';
