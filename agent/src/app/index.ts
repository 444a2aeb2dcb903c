export * from './agent.ts';
export * from './ports.ts';
export * from './radio-runner.ts';
export * from './storage.ts';
export * from './network.ts';
export * from './clock.ts';
export * from './api-token.ts';
export * from './api-client.ts';
