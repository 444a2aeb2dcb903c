/** The gateway's anchorer from its `anchor:` config (undefined without one). */
import type { ChainName } from '@beepkit/protocol/ledger';
import { CHAINS } from '@beepkit/protocol/ledger';
import { readSecretFile } from '../ca/keys.ts';
import type { AnchorConfig } from '../app/config.ts';
import type { Registry } from '../app/metrics.ts';
import type { Ledger, Logger } from '../ledger/types.ts';
import { Anchorer } from './anchorer.ts';
import { EvmClient } from './evm.ts';

export function anchorerFor(o: { anchor?: AnchorConfig; dataDir: string; ledger: Pick<Ledger, 'sth'>; ledgerKey: Uint8Array; registry: Registry; logger: Logger }): Anchorer | undefined {
  const a = o.anchor;
  if (!a) return undefined;
  const privateKey = readSecretFile(a.keyFile); // E_PERMISSION / E_KEY at start, not at the first round
  return new Anchorer({
    sth: (c: ChainName) => o.ledger.sth(c), ledgerKey: o.ledgerKey, contract: a.contract as `0x${string}`, dataDir: o.dataDir, chains: [...CHAINS],
    connect: () => EvmClient.connect({ rpcUrl: a.rpcUrl, privateKey }), intervalMs: a.intervalMs, everyTreeHeads: a.everyTreeHeads,
    logger: o.logger, registry: o.registry,
  });
}
