export * from './cwa.ts';
export * from './logistic.ts';
