/**
 * Reads the consortium chain's VenueRegistry (read-only JSON-RPC, no key): the newest block
 * number and the contract's events in a block range, decoded into the plain types of
 * venues/chain.ts (the follower that applies them). With evm.ts, the only files importing viem.
 * Errors: `E_RPC` (node unreachable, timeout).
 */
import { createPublicClient, http, type Abi, type Hex, type PublicClient } from 'viem';
import { fromHex } from '@beepkit/protocol';
import { venueRegistryAbi } from './contracts.generated.ts';
import { wrap } from './evm.ts';
import type { VenueChainEvent, VenueChainSource } from '../venues/chain.ts';

const ABI = venueRegistryAbi as Abi;
const STATES = ['empty', 'infected', 'clean'] as const;
const bytes = (h: Hex): Uint8Array => fromHex(h.slice(2).toLowerCase(), 'chain bytes');

export class VenueChainReader implements VenueChainSource {
  readonly #pub: PublicClient;
  constructor(
    readonly rpcUrl: string,
    readonly contract: Hex,
    timeoutMs = 10_000,
  ) {
    this.#pub = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  }

  async head(): Promise<bigint> {
    try {
      return await this.#pub.getBlockNumber({ cacheTime: 0 });
    } catch (e) {
      throw wrap(e, `VenueRegistry at ${this.rpcUrl}: block number`);
    }
  }

  /** The contract's events in blocks `from..to`, in chain order (block, then log index). */
  async events(from: bigint, to: bigint): Promise<VenueChainEvent[]> {
    let logs;
    try {
      logs = await this.#pub.getContractEvents({ address: this.contract, abi: ABI, fromBlock: from, toBlock: to, strict: true });
    } catch (e) {
      throw wrap(e, `VenueRegistry events ${from}..${to}`);
    }
    logs.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
    const out: VenueChainEvent[] = [];
    for (const l of logs) {
      const a = l.args as Record<string, unknown>;
      const at = { block: l.blockNumber };
      switch (l.eventName) {
        case 'RegionAdded':
          out.push({ ...at, type: 'region', region: a.region as string, parent: a.parent as string, path: a.path as string });
          break;
        case 'VenueRegistered': {
          // the registration time is in the venue's storage, not in the event: read it while the venue is still empty
          const v = await this.#venue(a.venue as Hex);
          out.push({
            ...at,
            type: 'venue',
            venue: bytes(a.venue as Hex),
            region: a.region as string,
            publicKey: bytes(a.publicKey as Hex),
            sinceSec: v.state === 0 ? Number(v.since) : undefined,
          });
          break;
        }
        case 'VenueRevoked':
          out.push({ ...at, type: 'revoked', venue: bytes(a.venue as Hex) });
          break;
        case 'VenueStateChanged':
          out.push({
            ...at,
            type: 'state',
            venue: bytes(a.venue as Hex),
            region: a.region as string,
            state: STATES[Number(a.state)] ?? 'empty',
            sinceSec: Number(a.since),
            reason: Number(a.reason),
          });
          break;
        default: // OperatorSet: nothing for the venue states
      }
    }
    return out;
  }

  async #venue(id: Hex): Promise<{ state: number; since: bigint }> {
    try {
      return (await this.#pub.readContract({ address: this.contract, abi: ABI, functionName: 'venue', args: [id] })) as { state: number; since: bigint };
    } catch (e) {
      throw wrap(e, `VenueRegistry.venue(${id})`);
    }
  }
}
