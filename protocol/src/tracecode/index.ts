export * from './code.ts';
export * from './batch.ts';
