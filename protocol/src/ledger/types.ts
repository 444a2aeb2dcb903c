/**
 * The ledger's block: the unit of one group commit, as the gateway writes it
 * to its segments and publishes it on the notification feed, and as devices
 * verify it (the codec is block.ts). Pure types.
 */
import type { SignedTreeHead } from '../merkle/index.ts';

export const CHAINS = ['tracing', 'notification'] as const;
export type ChainName = (typeof CHAINS)[number];

export interface BlockHeader {
  chain: ChainName;
  height: number;
  prevHash: Uint8Array;
  /** RFC 9162 root over the leaf hashes of this block's entries. */
  entriesRoot: Uint8Array;
  firstLeafIndex: number;
  entryCount: number;
  timeMs: number;
  keyId: Uint8Array;
  signature: Uint8Array;
}

export interface Block {
  header: BlockHeader;
  /** SHA-256 of the header's signing bytes; the next block's prevHash. */
  hash: Uint8Array;
  entries: { entryHash: Uint8Array; data: Uint8Array; keys: Uint8Array[] }[];
  /** Tree head after this block. */
  sth: SignedTreeHead;
}
