/**
 * The device side's MQTT client (agents, the beacon's registration, the gateway's ops client): the one
 * module of the device core that imports mqtt (connect.ts; client.ts takes only its types).
 */
export * from './client.ts';
export * from './connect.ts';
