export * from './errors.ts';
export * from './bytes.ts';
