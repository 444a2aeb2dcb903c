/** Anchoring on an EVM chain: contracts, the viem client, anvil, the anchorer, verification. */
export { Anvil, anvilBinary, freePort } from './anvil.ts';
export { EvmClient, RevertError, hex32, regionId, chainToBytes32, type AnchorHead, type TxResult, type ContractName } from './evm.ts';
export { Anchorer, type AnchorerOptions } from './anchorer.ts';
export { createEvmKey } from './cli.ts';
export { verifyAnchors, type AnchorVerifyReport } from './verify.ts';
