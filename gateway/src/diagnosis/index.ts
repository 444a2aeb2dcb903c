export * from './diagnostician.ts';
export * from './json.ts';
