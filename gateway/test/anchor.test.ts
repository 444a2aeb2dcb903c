/**
 * The anchorer against a real anvil and a real embedded ledger: batched rounds, gas measured,
 * an RPC outage (a TCP relay in front of anvil closed and reopened) backs off with the backlog
 * visible, a gateway that is not admitted is refused by the contract, and `verifyAnchors`
 * detects a gateway that rewrote its log after anchoring (the fork test).
 */
import t from 'tap';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Anvil } from '../src/anchor/anvil.ts';
import { Anchorer } from '../src/anchor/anchorer.ts';
import { EvmClient, hex32 } from '../src/anchor/evm.ts';
import { verifyAnchors } from '../src/anchor/verify.ts';
import { EmbeddedLedger, ed25519Signer } from '../src/ledger/index.ts';
import { Registry } from '../src/app/metrics.ts';
import { batch } from './ledger-helpers.ts';
import { bytesFrom, prng } from './gw-fixtures.ts';
import type { Logger } from '../src/ledger/types.ts';

/** A TCP relay to anvil that can be cut (an RPC outage) and restored on the same port. */
class Relay {
  #server?: Server;
  readonly #sockets = new Set<Socket>();
  port = 0;
  constructor(readonly target: number) {}
  async open(): Promise<void> {
    const s = createServer((c) => {
      const u = connect(this.target, '127.0.0.1');
      for (const x of [c, u]) {
        this.#sockets.add(x);
        x.on('close', () => this.#sockets.delete(x));
        x.on('error', () => {});
      }
      c.pipe(u).pipe(c);
    });
    await new Promise<void>((r) => s.listen(this.port, '127.0.0.1', r));
    this.port = (s.address() as { port: number }).port;
    this.#server = s;
  }
  async cut(): Promise<void> {
    for (const x of this.#sockets) x.destroy();
    await new Promise<void>((r) => this.#server!.close(() => r()));
  }
}

/** Waiters re-checked at every anchorer log line (each round logs success or failure). */
let waiters: (() => void)[] = [];
const notify = (): void => {
  const w = waiters;
  waiters = [];
  for (const f of w) f();
};
const logger: Logger = { info: notify, warn: notify, error() {}, debug() {} };

t.test('anchoring: batched rounds, outage and backoff, admission, fork detection', async (t) => {
  const anvil = await new Anvil().start();
  t.teardown(() => anvil.stop());
  const rand = prng(99);
  const adminKey = bytesFrom(rand, 32);
  const gwKey = bytesFrom(rand, 32);
  const admin = await EvmClient.connect({ rpcUrl: anvil.rpcUrl, privateKey: adminKey, pollMs: 20 });
  await admin.devFund(admin.address);
  await admin.devFund(EvmClient.addressOf(gwKey));
  const contract = (await admin.deploy('AnchorRegistry')).contractAddress;
  const relay = new Relay(anvil.port);
  await relay.open();
  const rpcUrl = `http://127.0.0.1:${relay.port}`;

  const dir = t.testdir();
  const signer = ed25519Signer(bytesFrom(rand, 32));
  const ledger = new EmbeddedLedger({ dir: join(dir, 'ledger'), signer, now: () => 1_800_000_000_000 });
  await ledger.open();
  t.teardown(() => ledger.close());
  const registry = new Registry();
  const anchorer = new Anchorer({
    sth: (c) => ledger.sth(c),
    ledgerKey: signer.publicKey,
    contract,
    dataDir: dir,
    chains: ['tracing', 'notification'],
    connect: () => EvmClient.connect({ rpcUrl, privateKey: gwKey, pollMs: 20, timeoutMs: 2000 }),
    intervalMs: 3_600_000,
    everyTreeHeads: 4,
    backoff: { minMs: 50, maxMs: 200 },
    receiptTimeoutMs: 5000,
    logger,
    registry,
  });
  const append = async (seed: string): Promise<void> => {
    const [r] = await ledger.append('tracing', [batch(seed)]);
    if (!('error' in r)) anchorer.noteAppend('tracing', r.sth);
  };
  const anchoredTo = (size: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (anchorer.anchored.tracing.treeSize >= size) resolve();
        else waiters.push(check);
      };
      check();
    });
  const failed = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => (anchorer.failures >= n ? resolve() : void waiters.push(check));
      check();
    });

  for (let i = 0; i < 3; i++) await append(`pre-${i}`);
  await anchorer.start(); // not admitted yet: refused by the contract
  await failed(1);
  t.equal(anchorer.lastError?.code, 'E_REVERT');
  t.match(anchorer.lastError?.message, /NotAdmitted/, 'a gateway that is not admitted cannot anchor');
  t.same(anchorer.status().backlog, { tracing: { treeHeads: 3, entries: 3 }, notification: { treeHeads: 0, entries: 0 } }, 'the backlog is visible');

  await admin.write('AnchorRegistry', contract, 'admit', [hex32(signer.publicKey), EvmClient.addressOf(gwKey)]);
  await anchoredTo(3);
  t.equal(anchorer.failures, 0, 'recovered after admission (backoff retry)');
  for (let i = 0; i < 8; i++) await append(`run-${i}`);
  await anchoredTo(11);
  const gas = registry.render().match(/beepkit_anchor_last_gas_used (\d+)/)?.[1];
  t.ok(Number(gas) > 20_000 && Number(gas) < 200_000, `gas per anchor measured: ${gas}`);
  t.comment(`gas per anchor (one chain, later anchors): ${gas}`);

  // RPC outage: cut the relay; appends go on, rounds fail and back off, the backlog grows
  await relay.cut();
  for (let i = 0; i < 6; i++) await append(`outage-${i}`);
  await failed(2);
  t.equal(anchorer.lastError?.code, 'E_RPC', 'the outage shows as E_RPC');
  t.ok(anchorer.retryInMs > 0, `backing off (${anchorer.retryInMs} ms)`);
  t.equal(
    anchorer.status().backlog && (anchorer.status().backlog as Record<string, { entries: number }>).tracing.entries,
    6,
    'backlog of 6 entries during the outage',
  );
  t.match(registry.render(), /beepkit_anchor_backlog_entries\{chain="tracing"\} 6/, 'and in the metrics');
  await relay.open(); // the node is back on the same URL
  t.teardown(() => relay.cut());
  await anchoredTo(17);
  t.equal(anchorer.status().failures, 0);
  await anchorer.stop();

  const heads = await admin.anchoredHeads(contract, signer.publicKey);
  const sizes = heads.map((h) => h.treeSize);
  t.same(
    sizes,
    [...sizes].sort((a, b) => a - b),
    'anchored sizes only grow',
  );
  t.equal(new Set(sizes).size, sizes.length, 'nothing anchored twice');
  t.ok(sizes.length <= 6, `batched: ${sizes.length} transactions for 17 tree heads`);
  await ledger.close();

  const ok = await verifyAnchors(join(dir, 'ledger'), anvil.rpcUrl, contract, bytesFrom(rand, 32));
  t.ok(ok.ok, `verify --anchor passes: ${ok.problem ?? ''}`);
  t.same(ok.newest, { tracing: 17, notification: 0 });

  // the fork: the same gateway key rewrites its log (another 17th entry onwards) after anchoring
  const forked = join(dir, 'forked');
  const f = new EmbeddedLedger({ dir: forked, signer, now: () => 1_800_000_000_000 });
  await f.open();
  for (const s of [
    ...Array.from({ length: 3 }, (_, i) => `pre-${i}`),
    ...Array.from({ length: 8 }, (_, i) => `run-${i}`),
    ...Array.from({ length: 5 }, (_, i) => `outage-${i}`),
    'rewritten',
    'more',
  ])
    await f.append('tracing', [batch(s)]);
  await f.close();
  const bad = await verifyAnchors(forked, anvil.rpcUrl, contract, bytesFrom(rand, 32));
  t.notOk(bad.ok, 'the rewritten log is detected');
  t.match(bad.problem, /anchor tracing:17 .*not consistent/, bad.problem ?? '');
});
