/** JSON views of receipts and blocks (hex for bytes), for the CLI and logs. */
import { toHex } from '@beepkit/protocol';
import type { SignedTreeHead } from '@beepkit/protocol/merkle';
import type { Block } from '@beepkit/protocol/ledger';
import type { LedgerEntry, Receipt } from './types.ts';

export function sthToJson(s: SignedTreeHead): Record<string, unknown> {
  return {
    chainId: s.chainId,
    treeSize: s.treeSize,
    rootHash: toHex(s.rootHash),
    timestampMs: s.timestampMs,
    blockHeight: s.blockHeight,
    keyId: toHex(s.keyId),
    signature: toHex(s.signature),
  };
}

export function receiptToJson(r: Receipt): Record<string, unknown> {
  return {
    chain: r.chain,
    entryHash: toHex(r.entryHash),
    leafIndex: r.leafIndex,
    blockHeight: r.blockHeight,
    inclusionProof: r.inclusionProof.map(toHex),
    sth: sthToJson(r.sth),
  };
}

export function entryToJson(e: LedgerEntry): Record<string, unknown> {
  return { chain: e.chain, entryHash: toHex(e.entryHash), leafIndex: e.leafIndex, blockHeight: e.blockHeight, data: toHex(e.data), keys: e.keys.map(toHex) };
}

export function blockToJson(b: Block): Record<string, unknown> {
  const h = b.header;
  return {
    height: h.height,
    hash: toHex(b.hash),
    prevHash: toHex(h.prevHash),
    entriesRoot: toHex(h.entriesRoot),
    firstLeafIndex: h.firstLeafIndex,
    entryCount: h.entryCount,
    timeMs: h.timeMs,
    signature: toHex(h.signature),
    entries: b.entries.map((e) => toHex(e.entryHash)),
    sth: sthToJson(b.sth),
  };
}
