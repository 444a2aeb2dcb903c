/** Carer side of elder-wearable pairing (issue 8): store, client, what the agent exposes (the wire protocol is @beepkit/protocol/carer). */
export * from './store.ts';
export * from './encounters.ts';
export * from './client.ts';
export * from './expose.ts';
export { GattCentral } from '@beepkit/device-core/radio';
export * from './proxy.ts';
export * from './service.ts';
