export * from './receipt.ts';
export * from './uplink.ts';
