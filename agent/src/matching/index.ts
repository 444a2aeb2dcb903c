export * from './set16.ts';
export * from './fingerprints.ts';
export * from './teks.ts';
export * from './venues.ts';
