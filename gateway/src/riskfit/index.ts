export * from './irls.ts';
export * from './csv.ts';
