/**
 * Read-only full verification of a ledger directory: every record checksum,
 * every entry hash, every block's entries root, signature and linkage to the
 * previous block, and every signed tree head against a tree rebuilt from the
 * leaves. Stops at the first problem.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, equalBytes, fromHex, toHex } from '@beepkit/protocol';
import { HASH_SIZE, MerkleTree, keyIdOf, leafHash, rootOf, signingBytes } from '@beepkit/protocol/merkle';
import { blockHash, blockSigningBytes, decodeBlock, CHAINS, type ChainName } from '@beepkit/protocol/ledger';
import { listSegments, scanSegment } from './segment.ts';
import { ed25519Verifier } from './signer.ts';
import type { VerifyReport } from './types.ts';

export const META_FILE = 'ledger.json';

export interface LedgerMeta {
  format: 1;
  publicKey: string;
  keyId: string;
}

export function readMeta(dir: string): LedgerMeta {
  let text: string;
  try {
    text = readFileSync(join(dir, META_FILE), 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_IO', `${dir}: no ${META_FILE} (not a ledger directory?)`, { cause });
  }
  try {
    const m = JSON.parse(text) as LedgerMeta;
    if (m.format !== 1 || typeof m.publicKey !== 'string') throw new Error('bad fields');
    return m;
  } catch (cause) {
    throw new BeepkitError('E_FORMAT', `${dir}/${META_FILE} is not valid ledger metadata`, { cause });
  }
}

class Problem extends Error {}

/** `maxBlocks` bounds how many blocks per chain are checked (an open ledger passes its committed heights). */
export function verifyLedgerDir(dir: string, opts: { publicKey?: Uint8Array; maxBlocks?: Partial<Record<ChainName, number>> } = {}): VerifyReport {
  const chains = Object.fromEntries(CHAINS.map((c) => [c, { blocks: 0, entries: 0 }])) as VerifyReport['chains'];
  try {
    const publicKey = opts.publicKey ?? fromHex(readMeta(dir).publicKey, 'publicKey');
    const verifySig = ed25519Verifier(publicKey);
    const keyId = keyIdOf(publicKey);
    for (const chain of CHAINS) verifyChain(dir, chain, verifySig, keyId, opts.maxBlocks?.[chain] ?? Infinity, chains[chain]);
    return { ok: true, chains };
  } catch (err) {
    if (err instanceof Problem || err instanceof BeepkitError) return { ok: false, problem: err.message, chains };
    throw err;
  }
}

function verifyChain(
  dir: string,
  chain: ChainName,
  verifySig: (m: Uint8Array, s: Uint8Array) => boolean,
  keyId: Uint8Array,
  maxBlocks: number,
  count: { blocks: number; entries: number },
): void {
  const tree = new MerkleTree();
  let prev: Uint8Array = new Uint8Array(HASH_SIZE);
  const fail = (m: string): never => {
    throw new Problem(`${chain} block ${count.blocks}: ${m}`);
  };
  for (const seg of listSegments(join(dir, chain))) {
    if (count.blocks >= maxBlocks) break;
    if (seg.first !== count.blocks) fail(`segment ${seg.path} starts at height ${seg.first}`);
    const res = scanSegment(seg, (payload) => {
      if (count.blocks >= maxBlocks) return;
      const { block } = decodeBlock(payload);
      const h = block.header;
      if (h.chain !== chain) fail(`belongs to chain ${h.chain}`);
      if (h.height !== count.blocks) fail(`height ${h.height}, expected ${count.blocks}`);
      if (!equalBytes(h.prevHash, prev)) fail('previous block hash does not match');
      if (h.firstLeafIndex !== tree.size) fail(`first leaf ${h.firstLeafIndex}, expected ${tree.size}`);
      if (h.entryCount === 0) fail('empty block');
      if (!equalBytes(h.keyId, keyId)) fail('signed by another key id');
      block.entries.forEach((e, i) => {
        if (!equalBytes(leafHash(e.data), e.entryHash)) fail(`entry ${i} hash mismatch (${toHex(e.entryHash)})`);
      });
      const hashes = block.entries.map((e) => e.entryHash);
      if (!equalBytes(rootOf(hashes), h.entriesRoot)) fail('entries Merkle root mismatch');
      if (!verifySig(blockSigningBytes(h), h.signature)) fail('block signature invalid');
      for (const eh of hashes) tree.append(eh);
      const s = block.sth;
      if (s.chainId !== chain || s.treeSize !== tree.size || s.blockHeight !== h.height || s.timestampMs !== h.timeMs || !equalBytes(s.keyId, keyId))
        fail('tree head fields do not match the block');
      if (!equalBytes(s.rootHash, tree.root())) fail('tree head root does not match the rebuilt tree');
      if (!verifySig(signingBytes(s), s.signature)) fail('tree head signature invalid');
      prev = blockHash(h);
      count.blocks++;
      count.entries += h.entryCount;
    });
    if (res.problem && count.blocks < maxBlocks)
      fail(`${seg.path}: ${res.problem.message}${res.problem.torn ? ' (torn tail: opening the ledger truncates it)' : ''}`);
  }
  if (Number.isFinite(maxBlocks) && count.blocks !== maxBlocks) fail(`only ${count.blocks} blocks on disk, expected ${maxBlocks}`);
}
