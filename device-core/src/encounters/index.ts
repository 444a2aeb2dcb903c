export * from './log.ts';
export * from './codec.ts';
