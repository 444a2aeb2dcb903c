export * from './log.ts';
export * from './codec.ts';
export * from './journal.ts';
