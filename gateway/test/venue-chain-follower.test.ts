/**
 * The VenueRegistry follower (src/venues/chain.ts) over a scripted chain source (the layer
 * directly below; the real reader on anvil is test/venue-chain.test.ts): ranges read in
 * chunks from genesis, events applied in order, older transitions not applied, E_RPC backing
 * off and recovering without losing the states.
 */
import t from 'tap';
import { once } from 'node:events';
import { BeepkitError } from '@beepkit/protocol';
import { VenueChainFollower, type VenueChainEvent, type VenueChainSource } from '../src/venues/chain.ts';
import { VenueRegistry as VenueStates } from '../src/venues/registry.ts';
import { silentLogger } from '../src/broker/log.ts';

const V = Uint8Array.from([1, 2, 3, 4, 5, 6, 0, 0]);
const KEY = new Uint8Array(32).fill(7);

class Script implements VenueChainSource {
  headBlock = 0n;
  down = false;
  readonly ranges: string[] = [];
  constructor(readonly log: VenueChainEvent[]) {}
  async head(): Promise<bigint> {
    if (this.down) throw new BeepkitError('E_RPC', 'connect ECONNREFUSED');
    return this.headBlock;
  }
  async events(from: bigint, to: bigint): Promise<VenueChainEvent[]> {
    this.ranges.push(`${from}..${to}`);
    return this.log.filter((e) => e.block >= from && e.block <= to);
  }
}

t.test('reads from genesis in chunks, applies in order, backs off on E_RPC', async (t) => {
  const src = new Script([
    { block: 1n, type: 'region', region: '0xaa', parent: '0x00', path: 'scotland/edinburgh/leith' },
    { block: 2n, type: 'venue', venue: V, region: '0xaa', publicKey: KEY, sinceSec: 100 },
    { block: 4n, type: 'state', venue: V, region: '0xaa', state: 'infected', sinceSec: 200, reason: 1 },
  ]);
  src.headBlock = 5n;
  const states = new VenueStates({ now: () => 300_000 });
  const f = new VenueChainFollower({
    source: src,
    states,
    contract: '0xc',
    pollMs: 60_000,
    maxBlocks: 2,
    backoff: { minMs: 10, maxMs: 40 },
    logger: silentLogger,
  });
  t.teardown(() => f.stop());
  const alive = setInterval(() => {}, 1000); // the follower's timers are unref'd (a gateway's sockets keep the process up)
  t.teardown(() => clearInterval(alive));
  f.start();
  await f.caughtUp(5n);
  t.same(src.ranges, ['0..1', '2..3', '4..5'], 'genesis to head, two blocks per request');
  t.same(states.venueState(V), { state: 'infected', sinceMs: 200_000 });
  t.same(states.info(V), { region: 'scotland/edinburgh/leith', surface: undefined, signoffKey: KEY });
  t.equal(states.applyTransition(V, 'clean', 150_000), false, 'an older transition is not applied');
  t.same(states.venueState(V), { state: 'infected', sinceMs: 200_000 });
  // a venue infected here (this gateway's notification chain) and registered on the chain later stays infected
  const W = Uint8Array.from([9, 9, 9, 9, 9, 9, 0, 0]);
  t.equal(states.applyTransition(W, 'infected', 210_000), true);
  src.log.push({ block: 6n, type: 'venue', venue: W, region: '0xaa', publicKey: KEY, sinceSec: 220 });
  src.headBlock = 6n;
  await f.caughtUp(6n);
  t.same(states.venueState(W), { state: 'infected', sinceMs: 210_000 }, 'a registration does not empty an infected venue');
  t.same(states.info(W)?.signoffKey, KEY, 'but gives it its key');

  src.down = true;
  const f1 = once(f, 'poll-failed');
  f.start(); // poll now
  const [e1] = (await f1) as [BeepkitError];
  t.equal(e1.code, 'E_RPC');
  t.equal(f.retryInMs, 10);
  await once(f, 'poll-failed');
  t.equal(f.retryInMs, 20, 'backs off, doubling');
  await once(f, 'poll-failed');
  await once(f, 'poll-failed');
  t.equal(f.retryInMs, 40, 'up to the maximum');
  t.match(f.status(), { failures: 4, lastError: { code: 'E_RPC' }, block: 6 });
  t.same(states.venueState(V), { state: 'infected', sinceMs: 200_000 }, 'the last known state stays');

  src.log.push({ block: 7n, type: 'state', venue: V, region: '0xaa', state: 'clean', sinceSec: 250, reason: 4 }, { block: 7n, type: 'revoked', venue: V });
  src.headBlock = 7n;
  src.down = false;
  await f.caughtUp(7n);
  t.match(f.status(), { failures: 0, lastError: null, block: 7, venues: 2, regions: 1 });
  t.same(states.venueState(V), { state: 'clean', sinceMs: 250_000 }, 'recovered: the new transition');
  t.equal(states.info(V)!.signoffKey, undefined, 'a revoked venue has no sign-off key');
});
