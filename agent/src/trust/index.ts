export * from './fusion.ts';
export * from './verify.ts';
export * from './state.ts';
