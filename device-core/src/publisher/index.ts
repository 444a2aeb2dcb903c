export * from './decide.ts';
export * from './publisher.ts';
