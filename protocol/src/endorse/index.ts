export * from './consent.ts';
export * from './record.ts';
export * from './entries.ts';
export * from './signoff.ts';
export * from './files.ts';
