/** The ledger block: types and the pure codec shared by the gateway (writer) and the devices (verifiers). */
export * from './types.ts';
export * from './block.ts';
