export * from './logger.ts';
export * from './model.ts';
export * from './sinks.ts';
export * from './dispatcher.ts';
export * from './assess.ts';
