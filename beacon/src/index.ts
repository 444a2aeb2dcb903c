export * from './provision.ts';
export * from './clock.ts';
export * from './daemon.ts';
export * from './health.ts';
export * from './register.ts';
