/** MQTT 3.1.1 topic map, ACL patterns and the versioned binary payload codecs. */
export * from './types.ts';
export * from './topics.ts';
export { CODECS } from './codecs.ts';
export * from './envelope.ts';
