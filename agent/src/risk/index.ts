export * from './cwa.ts';
export * from './logistic.ts';
export * from './beta-file.ts';
