/** The gateway's anchorer from its `anchor:` config, and its venue-chain follower from `venues.chain` (each undefined without one). */
import type { ChainName } from '@beepkit/protocol/ledger';
import { CHAINS } from '@beepkit/protocol/ledger';
import { readSecretFile } from '../ca/keys.ts';
import type { AnchorConfig, VenueChainConfig } from '../app/config.ts';
import { VenueChainFollower } from '../venues/chain.ts';
import type { VenueRegistry as VenueStates } from '../venues/registry.ts';
import type { Registry } from '../app/metrics.ts';
import type { Ledger, Logger } from '../ledger/types.ts';
import { Anchorer } from './anchorer.ts';
import { EvmClient } from './evm.ts';
import { VenueChainReader } from './venue-reader.ts';

export function anchorerFor(o: {
  anchor?: AnchorConfig;
  dataDir: string;
  ledger: Pick<Ledger, 'sth'>;
  ledgerKey: Uint8Array;
  registry: Registry;
  logger: Logger;
}): Anchorer | undefined {
  const a = o.anchor;
  if (!a) return undefined;
  const privateKey = readSecretFile(a.keyFile); // E_PERMISSION / E_KEY at start, not at the first round
  return new Anchorer({
    sth: (c: ChainName) => o.ledger.sth(c),
    ledgerKey: o.ledgerKey,
    contract: a.contract as `0x${string}`,
    dataDir: o.dataDir,
    chains: [...CHAINS],
    connect: () => EvmClient.connect({ rpcUrl: a.rpcUrl, privateKey }),
    intervalMs: a.intervalMs,
    everyTreeHeads: a.everyTreeHeads,
    logger: o.logger,
    registry: o.registry,
  });
}

/** The follower of the consortium chain's VenueRegistry from the `venues.chain` config (undefined without one). */
export function venueChainFor(o: { chain?: VenueChainConfig; states: VenueStates; registry: Registry; logger: Logger }): VenueChainFollower | undefined {
  const c = o.chain;
  if (!c) return undefined;
  return new VenueChainFollower({
    source: new VenueChainReader(c.rpcUrl, c.contract as `0x${string}`),
    states: o.states,
    contract: c.contract,
    pollMs: c.pollMs,
    registry: o.registry,
    logger: o.logger,
  });
}
