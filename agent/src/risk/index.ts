export * from './cwa.ts';
export * from './beta-file.ts';
