export * from './schedule.ts';
export * from './keystore.ts';
