export * from './geo.ts';
export * from './rng.ts';
export * from './trajectory.ts';
export * from './schema.ts';
export * from './load.ts';
