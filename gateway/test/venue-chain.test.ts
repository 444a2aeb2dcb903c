/**
 * The consortium chain's VenueRegistry read by a real gateway (config `venues.chain`): on a
 * real anvil (kernel-chosen port), a region and a venue registered, the venue marked infected
 * then clean; at each step an agent's own pre-visit query (`queryVenueStatus`, over the
 * gateway's embedded broker) answers the chain's state and time, and the gateway's venue
 * registry holds the venue's public key from the chain. A restarted gateway re-reads the chain
 * from genesis; with the node gone it keeps answering the last known state, with E_RPC in
 * /status and the metrics.
 */
import t from 'tap';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol';
import { venueSignoffSigner } from '@beepkit/protocol/endorse';
import { queryVenueStatus } from '@beepkit/agent/app';
import { resolveConfig as agentConfig } from '@beepkit/agent/config';
import { Anvil } from '../src/anchor/anvil.ts';
import { EvmClient, hex32, regionId, type TxResult } from '../src/anchor/evm.ts';
import { resolveConfig } from '../src/app/config.ts';
import { Gateway } from '../src/app/gateway.ts';
import { hashPassword } from '../src/broker/index.ts';
import { bytesFrom, prng } from './gw-fixtures.ts';

t.setTimeout(240_000);

t.test('venue states from the chain answer the pre-visit query', async (t) => {
  const dir = t.testdir();
  const anvil = await new Anvil().start();
  t.teardown(() => anvil.stop());
  const rand = prng(1719);
  const admin = await EvmClient.connect({ rpcUrl: anvil.rpcUrl, privateKey: bytesFrom(rand, 32), pollMs: 20 });
  await admin.devFund(admin.address);
  const contract = (await admin.deploy('VenueRegistry')).contractAddress;
  const zero = hex32(new Uint8Array(32));
  await admin.write('VenueRegistry', contract, 'addRegion', ['scotland', zero]);
  await admin.write('VenueRegistry', contract, 'addRegion', ['scotland/edinburgh', regionId('scotland')]);
  await admin.write('VenueRegistry', contract, 'addRegion', ['scotland/edinburgh/edinburgh', regionId('scotland/edinburgh')]);
  const venue6 = '0a0b0c0d0e0f';
  const venue8 = `0x${venue6}0000` as const; // protocol venueId8: id6 ‖ 00 00
  const venueSecret = bytesFrom(rand, 32);
  const publicKey = venueSignoffSigner(venueSecret).publicKey; // the venue's sign-off key, public
  const T0 = 1_780_000_000; // unix seconds, the scenario's
  const registered = await admin.write('VenueRegistry', contract, 'registerVenue', [
    venue8,
    regionId('scotland/edinburgh/edinburgh'),
    hex32(publicKey),
    BigInt(T0),
  ]);

  // the gateway: embedded broker with one kit, the venue registry followed on the chain
  const kit = 'kit-query-0001';
  const kitPw = 'kit-query-secret';
  writeFileSync(join(dir, 'passwd'), `${kit}:${hashPassword(kitPw, { iterations: 1000 })}\n`, { mode: 0o600 });
  let nowMs = T0 * 1000 + 60_000;
  const config = resolveConfig({
    dataDir: join(dir, 'gw'),
    http: { port: 0 },
    log: { level: 'silent' },
    broker: { embedded: { host: '127.0.0.1', port: 0, passwordFile: join(dir, 'passwd') } },
    venues: { chain: { rpcUrl: anvil.rpcUrl, contract, pollMs: 200 } },
  });
  const start = async (): Promise<Gateway> => {
    const g = new Gateway({ config, now: () => nowMs });
    await g.start();
    return g;
  };
  let gw = await start();
  t.teardown(() => gw.stop());
  const kitConfig = (): ReturnType<typeof agentConfig> =>
    agentConfig({
      dataDir: join(dir, 'kit'),
      broker: { url: gw.brokerUrl, username: kit, password: kitPw },
      anchors: { caPublicKey: toHex(gw.keys.caPublicKey), gatewayPublicKey: toHex(gw.keys.gateway.publicKey) },
    });
  const seen = async (r: TxResult): Promise<void> => {
    t.equal(r.status, 'success');
    await gw.venueChain!.caughtUp(r.blockNumber);
  };

  await seen(registered);
  t.same(
    await queryVenueStatus(kitConfig(), venue6, 20_000),
    { venue: venue6, state: 'empty', sinceMs: T0 * 1000 },
    'registered: empty since its registration time',
  );
  const info = gw.venueStates.info(venue6);
  t.equal(toHex(info!.signoffKey!), toHex(publicKey), "the gateway's venue registry holds the venue's public key from the chain");
  t.equal(info!.region, 'scotland/edinburgh/edinburgh', 'and its region path, from the RegionAdded event');

  nowMs = (T0 + 3600) * 1000;
  await seen(await admin.write('VenueRegistry', contract, 'setState', [venue8, 1, BigInt(T0 + 3000), 1]));
  t.same(
    await queryVenueStatus(kitConfig(), venue6, 20_000),
    { venue: venue6, state: 'infected', sinceMs: (T0 + 3000) * 1000 },
    'marked infected on the chain: the pre-visit query says infected, with the chain time',
  );

  nowMs = (T0 + 86_400) * 1000;
  await seen(await admin.write('VenueRegistry', contract, 'setState', [venue8, 2, BigInt(T0 + 80_000), 4]));
  t.same(
    await queryVenueStatus(kitConfig(), venue6, 20_000),
    { venue: venue6, state: 'clean', sinceMs: (T0 + 80_000) * 1000 },
    'marked clean on the chain: clean, with the chain time',
  );

  const status = (await (await fetch(`http://127.0.0.1:${gw.httpPort}/status`)).json()) as { venueChain: Record<string, unknown> };
  t.match(status.venueChain, { contract, regions: 3, venues: 1, failures: 0, lastError: null }, '/status shows the venue chain');
  t.ok(Number(status.venueChain.block) >= Number(registered.blockNumber) + 2);
  const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  t.match(metrics, /beepkit_venue_chain_events_total\{type="state"\} 2/);
  t.match(metrics, /beepkit_venue_chain_events_total\{type="region"\} 3/);

  // a restart keeps nothing of its own: the chain is read again from genesis
  await gw.stop();
  gw = await start();
  await gw.venueChain!.caughtUp(BigInt(status.venueChain.block as number));
  t.same(
    await queryVenueStatus(kitConfig(), venue6, 20_000),
    { venue: venue6, state: 'clean', sinceMs: (T0 + 80_000) * 1000 },
    'restarted: the same state, from the chain',
  );
  t.equal(toHex(gw.venueStates.info(venue6)!.signoffKey!), toHex(publicKey));

  // the node goes away: typed E_RPC, counted, the last known state keeps answering
  const failed = once(gw.venueChain!, 'poll-failed');
  await anvil.stop();
  const [err] = (await failed) as [{ code: string }];
  t.equal(err.code, 'E_RPC', 'an unreachable node is E_RPC');
  t.same(
    await queryVenueStatus(kitConfig(), venue6, 20_000),
    { venue: venue6, state: 'clean', sinceMs: (T0 + 80_000) * 1000 },
    'the last known state still answers',
  );
  const down = (await (await fetch(`http://127.0.0.1:${gw.httpPort}/status`)).json()) as { venueChain: { failures: number; lastError: { code: string } } };
  t.ok(down.venueChain.failures >= 1, `failures in /status (${down.venueChain.failures})`);
  t.equal(down.venueChain.lastError.code, 'E_RPC');
  t.match(await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text(), /beepkit_venue_chain_errors_total\{code="E_RPC"\} [1-9]/);
});

t.test('config venues.chain', async (t) => {
  const a = '0x' + '1'.repeat(40);
  t.match(resolveConfig({ venues: { chain: { rpcUrl: 'http://127.0.0.1:8545', contract: a } } }).venues!.chain, {
    rpcUrl: 'http://127.0.0.1:8545',
    contract: a,
    pollMs: 5000,
  });
  t.equal(
    resolveConfig({ anchor: { rpcUrl: 'http://node:8545', keyFile: 'k', contract: a }, venues: { chain: { contract: a } } }).venues!.chain!.rpcUrl,
    'http://node:8545',
    'the RPC URL defaults to anchor.rpcUrl',
  );
  t.throws(() => resolveConfig({ venues: { chain: { contract: a } } }), { code: 'E_CONFIG', message: /venues\.chain\.rpcUrl/ });
  t.throws(() => resolveConfig({ venues: { chain: { rpcUrl: 'http://x:1', contract: '0x12' } } }), { code: 'E_CONFIG', message: /venues\.chain\.contract/ });
  t.throws(() => resolveConfig({ venues: { chain: { rpcUrl: 'http://x:1', contract: a, pollMs: 5 } } }), {
    code: 'E_CONFIG',
    message: /venues\.chain\.pollMs/,
  });
  t.throws(() => resolveConfig({ venues: { chain: { rpcUrl: 'http://x:1', contract: a, extra: 1 } } }), { code: 'E_CONFIG', message: /venues\.chain\.extra/ });
  t.throws(() => resolveConfig({ venues: { other: {} } }), { code: 'E_CONFIG', message: /venues\.other/ });
});
