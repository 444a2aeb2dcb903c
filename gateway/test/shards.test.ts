/**
 * Several gateways, without a broker: the `shard` config (E_CONFIG naming the field), each shard's MQTT
 * subscriptions (batches shared by every shard, the other uplinks by the main shard only, never an
 * overlapping filter), and the solver reading every shard: records on the ingest shard are matched against
 * an endorsement on the main shard exactly as on one ledger, and a batch durable on both shards counts once.
 * The kill -9 test with two processes, mosquitto and anvil is shards-kill.test.ts.
 */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { buildConsent } from '@beepkit/protocol/endorse';
import { UPLINK } from '@beepkit/protocol/wire';
import { resolveConfig } from '../src/app/config.ts';
import { connectionClientId, shardSubscriptions } from '../src/app/shard.ts';
import { EmbeddedLedger, ed25519Signer } from '../src/ledger/index.ts';
import { Solver, ledgerTracingSource } from '../src/solver/index.ts';
import { countShards } from '../src/solver/shards.ts';
import { Diagnostician } from '../src/diagnosis/index.ts';
import { T0, batchOf, cafeTracks, caPub, diagnosticianCert, keysOf, ledgerSigner, seed, solverKey } from './solver-helpers.ts';

const URL = 'mqtt://broker.example:1883';

t.test('config: shard needs broker.url, an id 0..255 and a role', async (t) => {
  for (const [doc, field] of [
    [{ shard: { id: 0, role: 'main' } }, 'shard'],
    [{ broker: { url: URL }, shard: { id: 256, role: 'main' } }, 'shard.id'],
    [{ broker: { url: URL }, shard: { id: 1, role: 'solver' } }, 'shard.role'],
    [{ broker: { url: URL }, shard: { id: 1, role: 'ingest', extra: 1 } }, 'shard.extra'],
    [{ broker: { url: URL }, shard: 'main' }, 'shard'],
  ] as const)
    t.throws(() => resolveConfig(doc), { code: 'E_CONFIG', message: new RegExp(`config ${field.replace('.', '\\.')}\\b`) }, field);
  const c = resolveConfig({ broker: { url: URL, clientId: 'gw' }, shard: { id: 3, role: 'ingest' } });
  t.same(c.shard, { id: 3, role: 'ingest' });
  t.equal(resolveConfig({ broker: { url: URL } }).shard, undefined, 'absent: the only gateway');
  t.equal(connectionClientId(c.broker, c.shard, 0), 'gw-s3-0', 'client ids carry the shard');
  t.equal(connectionClientId(c.broker, undefined, 0), 'gw', 'one gateway, one connection: unchanged');
});

t.test('subscriptions: batches shared by every shard, the rest by the main shard, no overlap', async (t) => {
  const ingest = shardSubscriptions('gw', { id: 1, role: 'ingest' });
  t.same(ingest, ['$share/gw/beepkit/v1/dev/+/up/batch', '$share/gw/beepkit/v1/dev/+/status']);
  const main = shardSubscriptions('gw', { id: 0, role: 'main' });
  t.same(main.slice(0, 2), ingest, 'the main shard is in the same group for batches and status');
  const others = Object.values(UPLINK).filter((k) => k !== 'batch');
  t.same(
    main.slice(2).sort(),
    others.map((k) => `$share/gw-main/beepkit/v1/dev/+/up/${k}`).sort(),
    "every other uplink, shared among the main shard's own connections",
  );
  t.notOk(
    main.some((f) => f.endsWith('/up/+')),
    'no wildcard that would deliver a batch twice',
  );
});

t.test('the solver reads every shard: the same notices as one ledger, a batch on both shards once', async (t) => {
  const dir = t.testdir();
  const now = (): number => (T0 + 3000) * 1000;
  const open = async (name: string, signer = ledgerSigner): Promise<EmbeddedLedger> => {
    const l = new EmbeddedLedger({ dir: `${dir}/${name}`, signer, now });
    await l.open();
    t.teardown(() => l.close());
    return l;
  };
  const one = await open('one');
  const main = await open('main');
  const other = await open('other', ed25519Signer(seed('gateway-shard-1')));
  const { tracks } = cafeTracks();
  const keys = Object.fromEntries(tracks.map((tr) => [tr.id, keysOf(tr.id)]));
  const dSeed = seed('diagnostician');
  const diag = (l: EmbeddedLedger): Diagnostician =>
    new Diagnostician({ signingSeed: dSeed, certificate: diagnosticianCert(dSeed), caPub, ledger: l, sink: { publish: async () => undefined }, now });
  // the same uploads: all on one ledger, or split between the shards (everyone but alice on the ingest shard)
  const batches = tracks.flatMap((tr) =>
    [batchOf(keys[tr.id], tr.fixes.slice(0, 30)), batchOf(keys[tr.id], tr.fixes.slice(30), 'exact', 30)].map((data) => ({ id: tr.id, data })),
  );
  for (const b of batches) {
    await one.append('tracing', [{ data: b.data }]);
    await (b.id === 'alice' ? main : other).append('tracing', [{ data: b.data }]);
  }
  // a batch durable on both shards (re-delivered to the sibling after a crash)
  const twice = batches.find((b) => b.id !== 'alice')!;
  await main.append('tracing', [{ data: twice.data }]);
  for (const l of [one, main]) {
    const d = diag(l);
    await d.endorse(buildConsent(d.challenge(), [keys.alice]));
  }

  const run = async (source: EmbeddedLedger, shards: EmbeddedLedger[] = []): Promise<{ notices: string[]; solver: Solver }> => {
    const notices: string[] = [];
    const solver = new Solver({
      source: ledgerTracingSource(source),
      shards: shards.map(ledgerTracingSource),
      sink: { publish: async (e) => void notices.push(...e.map(toHex)) },
      solverKey,
      caPub,
      now,
    });
    solver.open();
    await solver.catchUp();
    return { notices: notices.sort(), solver };
  };
  const reference = await run(one);
  t.ok(reference.notices.length >= 2, `one ledger: ${reference.notices.length} notices`);
  const sharded = await run(main, [other]);
  t.same(sharded.notices, reference.notices, 'main + ingest shard: the same notices');
  t.equal(sharded.solver.stats.records, reference.solver.stats.records, 'the same records indexed');
  t.equal(sharded.solver.stats.duplicateBatches, 1, 'the batch on both shards is read once');
  t.equal(sharded.solver.stats.conflictingClaims, 0, 'its second copy is not taken for a conflicting claim');
  const mainOnly = await run(main);
  t.ok(mainOnly.notices.length < reference.notices.length, `the main shard alone misses the contacts on the other shard (${mainOnly.notices.length} notices)`);

  const count = await countShards([
    { key: 'main', ledger: main },
    { key: 'other', ledger: other },
  ]);
  t.equal(count.batches, batches.length, 'countShards: every batch once');
  t.equal(count.endorsements, 1);
  t.equal(count.duplicates, 1);
  t.same(
    count.shards.map((s) => s.duplicates),
    [0, 1],
    'the later copy (in shard order) is the duplicate',
  );
});
