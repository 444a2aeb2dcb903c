/**
 * The Solidity contracts: the checked-in generated module is what the pinned solc-js makes
 * of gateway/contracts/*.sol (no hand edits, nothing stale), and both contracts behave on a
 * real EVM node (anvil from npm, kernel-chosen port, stopped in teardown).
 */
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GENERATED_FILE, compileContracts, renderGenerated } from '../src/anchor/compile.ts';
import { Anvil } from '../src/anchor/anvil.ts';
import { EvmClient, RevertError, hex32, regionId, type AnchorHead } from '../src/anchor/evm.ts';
import { prng, bytesFrom } from './gw-fixtures.ts';

t.test('the generated ABI and bytecode match a fresh compile', async (t) => {
  t.equal(readFileSync(GENERATED_FILE, 'utf8'), renderGenerated(compileContracts()), 'run `npm run -w @beepkit/gateway contracts` after changing a .sol file');
});

async function refused(t: Test, p: Promise<unknown>, reason: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  t.ok(e instanceof RevertError && e.reason === reason, `refused with ${reason} (got ${(e as Error)?.message})`);
}

t.test('contracts on anvil', async (t) => {
  const anvil = await new Anvil().start();
  t.teardown(() => anvil.stop());
  const rand = prng(1717);
  const key = (): Uint8Array => bytesFrom(rand, 32);
  const client = async (): Promise<EvmClient> => EvmClient.connect({ rpcUrl: anvil.rpcUrl, privateKey: key(), pollMs: 20 });
  const admin = await client();
  const gw = await client();
  const other = await client();
  for (const c of [admin, gw, other]) await admin.devFund(c.address);

  t.test('AnchorRegistry', async (t) => {
    const reg = (await admin.deploy('AnchorRegistry')).contractAddress;
    const ledgerKey = key();
    const head = (chain: string, treeSize: number): AnchorHead => ({
      chain,
      treeSize,
      rootHash: key(),
      timestampMs: 1_700_000_000_000 + treeSize,
      blockHeight: treeSize,
      signature: randomBytes(64),
    });
    await refused(t, gw.signAnchor(reg, [head('tracing', 1)]), 'NotAdmitted');
    await refused(t, gw.write('AnchorRegistry', reg, 'admit', [hex32(ledgerKey), gw.address]), 'NotAdmin');
    await admin.write('AnchorRegistry', reg, 'admit', [hex32(ledgerKey), gw.address]);
    const send = async (heads: AnchorHead[]): Promise<bigint> => {
      const tx = await gw.signAnchor(reg, heads);
      await gw.broadcast(tx);
      await gw.broadcast(tx); // a re-broadcast of the same signed transaction changes nothing
      const r = await gw.receipt(tx.hash, 5000);
      t.equal(r?.status, 'success');
      return r!.gasUsed;
    };
    const g1 = await send([head('tracing', 3), head('notification', 1)]);
    const g2 = await send([head('tracing', 7)]);
    t.ok(g1 > 0n && g2 > 0n, `gas: first two heads ${g1}, later one head ${g2}`);
    t.same((await gw.latestAnchor(reg, ledgerKey, 'tracing')).treeSize, 7);
    await refused(t, gw.signAnchor(reg, [head('tracing', 7)]), 'NotNewer');
    await refused(t, gw.signAnchor(reg, [head('tracing', 5)]), 'NotNewer');
    await refused(t, gw.signAnchor(reg, [head('notification', 2), head('tracing', 6)]), 'NotNewer'); // all or nothing
    t.equal((await gw.latestAnchor(reg, ledgerKey, 'notification')).treeSize, 1, 'the good half of a refused batch is not stored');
    await refused(t, gw.signAnchor(reg, [{ ...head('tracing', 9), signature: randomBytes(10) }]), 'BadSignatureLength');
    const events = await other.anchoredHeads(reg, ledgerKey);
    t.same(
      events.map((e) => `${e.chain}:${e.treeSize}`),
      ['tracing:3', 'notification:1', 'tracing:7'],
      'one event per anchored head, anyone can read them',
    );
    t.equal(events[2].signature.length, 64);
    // rotating the submitting account: the old one loses the right
    await admin.write('AnchorRegistry', reg, 'admit', [hex32(ledgerKey), other.address]);
    await refused(t, gw.signAnchor(reg, [head('tracing', 8)]), 'NotAdmitted');
    const tx = await other.signAnchor(reg, [head('tracing', 8)]);
    await other.broadcast(tx);
    t.equal((await other.receipt(tx.hash, 5000))?.status, 'success', 'the new account anchors, the sizes go on');
    await refused(t, admin.write('AnchorRegistry', reg, 'admit', [hex32(key()), other.address]), 'AlreadyAdmitted');
    await admin.write('AnchorRegistry', reg, 'revoke', [hex32(ledgerKey)]);
    await refused(t, other.signAnchor(reg, [head('tracing', 9)]), 'NotAdmitted');
  });

  t.test('VenueRegistry', async (t) => {
    const reg = (await admin.deploy('VenueRegistry')).contractAddress;
    await refused(t, gw.write('VenueRegistry', reg, 'addRegion', ['scotland', hex32(new Uint8Array(32))]), 'NotOperator');
    await admin.write('VenueRegistry', reg, 'setOperator', [gw.address, true]);
    const zero = hex32(new Uint8Array(32));
    await gw.write('VenueRegistry', reg, 'addRegion', ['scotland', zero]);
    const scotland = regionId('scotland');
    await refused(t, gw.write('VenueRegistry', reg, 'addRegion', ['scotland/x', hex32(key())]), 'UnknownRegion');
    await gw.write('VenueRegistry', reg, 'addRegion', ['scotland/edinburgh', scotland]);
    t.equal(await other.read('VenueRegistry', reg, 'parentOf', [regionId('scotland/edinburgh')]), scotland, 'a region points to its parent');
    const venue = '0x0102030405060708';
    await refused(t, gw.write('VenueRegistry', reg, 'registerVenue', [venue, hex32(key()), hex32(key()), 1n]), 'UnknownRegion');
    t.ok(await gw.read<boolean>('VenueRegistry', reg, 'regionExists', [scotland]), 'region id = keccak of its path');
    await gw.write('VenueRegistry', reg, 'registerVenue', [venue, scotland, hex32(key()), 100n]);
    await refused(t, gw.write('VenueRegistry', reg, 'registerVenue', [venue, scotland, hex32(key()), 100n]), 'VenueExists');
    await refused(t, gw.write('VenueRegistry', reg, 'setState', [venue, 2, 200n, 4]), 'BadTransition'); // empty -> clean
    await gw.write('VenueRegistry', reg, 'setState', [venue, 1, 200n, 1]);
    await refused(t, gw.write('VenueRegistry', reg, 'setState', [venue, 2, 150n, 4]), 'TimeGoesBack');
    await gw.write('VenueRegistry', reg, 'setState', [venue, 2, 300n, 4]);
    const v = await other.read<{ state: number; since: bigint; reason: number; region: string }>('VenueRegistry', reg, 'venue', [venue]);
    t.same([v.state, v.since, v.reason, v.region], [2, 300n, 4, scotland], 'clean since 300 after a sign-off, read by anyone');
    t.same(await other.read('VenueRegistry', reg, 'venuesIn', [scotland]), [venue]);
  });
});
