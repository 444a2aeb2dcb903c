export * from './air.ts';
export * from './model.ts';
export * from './geo.ts';
export * from './trace.ts';
