export * from './state.ts';
export * from './responder.ts';
export * from './radio.ts';
export * from './recorder.ts';
