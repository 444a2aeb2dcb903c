export * from './store.ts';
export * from './client.ts';
