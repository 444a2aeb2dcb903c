/**
 * The ledger adapter interface. The embedded ledger (`EmbeddedLedger`) is the
 * default; a distributed chain can implement the same interface, or anchor the
 * embedded one's signed tree heads.
 */
import type { ErrorCode } from '@beepkit/protocol/errors';
import type { SignedTreeHead } from '@beepkit/protocol/merkle';
import type { Block, ChainName } from '@beepkit/protocol/ledger';

export interface AppendInput {
  /** The entry, opaque to the ledger (e.g. a signed TraceCode batch). */
  data: Uint8Array;
  /** Per-record keys inside the entry (e.g. each TraceCode's hash); unique per chain. */
  keys?: Uint8Array[];
}

export interface Receipt {
  chain: ChainName;
  /** RFC 9162 leaf hash SHA-256(0x00 || data). */
  entryHash: Uint8Array;
  leafIndex: number;
  blockHeight: number;
  /** Inclusion path of the leaf in the tree of size `sth.treeSize`. */
  inclusionProof: Uint8Array[];
  sth: SignedTreeHead;
}

/** What append() gives per input: a receipt, or the typed error that rejected this entry alone. */
export type AppendResult = Receipt | { error: { code: ErrorCode; message: string } };

export interface LedgerEntry {
  chain: ChainName;
  entryHash: Uint8Array;
  leafIndex: number;
  blockHeight: number;
  data: Uint8Array;
  keys: Uint8Array[];
}

export interface VerifyReport {
  ok: boolean;
  /** The first problem found, when not ok. */
  problem?: string;
  chains: Record<ChainName, { blocks: number; entries: number }>;
}

export interface Ledger {
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Appends entries, group-committed with concurrent calls; resolves after the
   * block holding them is written and fsynced. One result per input, in order:
   * an entry already present returns its existing receipt; an entry with a key
   * already used by another entry gets `{ error: { code: 'E_DUPLICATE' } }`.
   */
  append(chain: ChainName, entries: AppendInput[]): Promise<AppendResult[]>;
  get(chain: ChainName, entryHash: Uint8Array): Promise<LedgerEntry | undefined>;
  getByKey(chain: ChainName, key: Uint8Array): Promise<LedgerEntry | undefined>;
  /** Receipt against the STH of size `treeSize` (default: the latest). */
  proof(chain: ChainName, entryHash: Uint8Array, treeSize?: number): Promise<Receipt | undefined>;
  sth(chain: ChainName): Promise<SignedTreeHead | undefined>;
  consistency(chain: ChainName, size1: number, size2: number): Promise<Uint8Array[]>;
  blocks(chain: ChainName, fromHeight: number, max: number): Promise<Block[]>;
  /** The last block, if any. */
  tail(chain: ChainName): Promise<Block | undefined>;
  verify(): Promise<VerifyReport>;
}

/** An Ed25519 signer injected by the gateway (private key never enters the ledger). */
export interface Signer {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export type { Logger } from '@beepkit/protocol/log';
