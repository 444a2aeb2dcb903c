/** Carer side of elder-wearable pairing (issue 8): protocol, store, client, what the agent exposes. */
export * from './messages.ts';
export * from './handshake.ts';
export * from './link.ts';
export * from './store.ts';
export * from './encounter-wire.ts';
export * from './encounters.ts';
export * from './client.ts';
export * from './expose.ts';
export { GattCentral } from '../radio/gatt-central.ts';
export type { HciTarget } from '../radio/hci-radio.ts';
export * from './proxy.ts';
export * from './service.ts';
