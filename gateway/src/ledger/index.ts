/** The ledger: adapter interface, embedded implementation, verification. */
export * from './types.ts';
export { EmbeddedLedger, type EmbeddedLedgerOptions } from './embedded.ts';
export { verifyLedgerDir, readMeta, META_FILE, type LedgerMeta } from './verify.ts';
export { ed25519Signer, ed25519Verifier, randomSigner } from './signer.ts';
export { receiptToJson, blockToJson, entryToJson, sthToJson } from './json.ts';
