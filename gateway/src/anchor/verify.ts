/**
 * Independent check of a gateway's anchors: every Anchored event of its ledger key (read from
 * the AnchorRegistry) against the local log in `dir`: the STH signature with the ledger key,
 * and an RFC 9162 consistency proof from the anchored tree to the local tree (equal roots when
 * the sizes are equal). A gateway that rewrote its log after anchoring fails here.
 */
import { fromHex, toHex } from '@beepkit/protocol';
import { signingBytes, verifyConsistency, keyIdOf } from '@beepkit/protocol/merkle';
import { ed25519Verifier } from '../ledger/signer.ts';
import { EmbeddedLedger } from '../ledger/embedded.ts';
import { readMeta } from '../ledger/verify.ts';
import type { ChainName } from '@beepkit/protocol/ledger';
import { EvmClient } from './evm.ts';

export interface AnchorVerifyReport {
  ok: boolean;
  problem?: string;
  anchors: number;
  /** Newest anchored tree size per chain (0: none). */
  newest: Record<string, number>;
  local: Record<string, number>;
}

export async function verifyAnchors(dir: string, rpcUrl: string, contract: `0x${string}`, readerKey: Uint8Array): Promise<AnchorVerifyReport> {
  const publicKey = fromHex(readMeta(dir).publicKey, 'publicKey');
  const verify = ed25519Verifier(publicKey);
  const evm = await EvmClient.connect({ rpcUrl, privateKey: readerKey });
  const heads = await evm.anchoredHeads(contract, publicKey);
  const ledger = new EmbeddedLedger({ dir, readOnly: true });
  await ledger.open();
  const rep: AnchorVerifyReport = { ok: true, anchors: heads.length, newest: {}, local: {} };
  const bad = (problem: string): AnchorVerifyReport => ({ ...rep, ok: false, problem });
  try {
    for (const c of ['tracing', 'notification'] as ChainName[]) {
      rep.local[c] = (await ledger.sth(c))?.treeSize ?? 0;
      rep.newest[c] = 0;
    }
    for (const h of heads) {
      const where = `anchor ${h.chain}:${h.treeSize} (tx ${h.txHash})`;
      const sth = {
        chainId: h.chain,
        treeSize: h.treeSize,
        rootHash: h.rootHash,
        timestampMs: h.timestampMs,
        blockHeight: h.blockHeight,
        keyId: keyIdOf(publicKey),
      };
      if (!verify(signingBytes(sth), h.signature)) return bad(`${where}: the tree head signature does not verify with the gateway key`);
      if (h.treeSize <= (rep.newest[h.chain] ?? 0)) return bad(`${where}: anchored sizes do not grow`);
      const local = await ledger.sth(h.chain as ChainName);
      if (!local || local.treeSize < h.treeSize) return bad(`${where}: the local log has only ${local?.treeSize ?? 0} entries (truncated or rewritten)`);
      const proof = await ledger.consistency(h.chain as ChainName, h.treeSize, local.treeSize);
      const ok =
        h.treeSize === local.treeSize
          ? toHex(h.rootHash) === toHex(local.rootHash)
          : verifyConsistency(h.treeSize, local.treeSize, h.rootHash, local.rootHash, proof);
      if (!ok)
        return bad(`${where}: the local log is not consistent with it (RFC 9162 consistency proof to size ${local.treeSize} fails: the log was rewritten)`);
      rep.newest[h.chain] = h.treeSize;
    }
    return rep;
  } finally {
    await ledger.close();
  }
}
