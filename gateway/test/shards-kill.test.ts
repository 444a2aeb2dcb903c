/**
 * Several gateways (README "Several gateways"): two `beepkit gateway run` child processes, shard 0
 * (main) and shard 1 (ingest), take one device population from a real mosquitto through the share
 * group; each keeps its own log shard and anchors it on a real anvil with its own admitted key.
 * Each is killed with SIGKILL mid-stream and restarted; the device re-sends every batch without a
 * receipt, and also batches the killed shard had receipted (a device that lost its receipt), which
 * the share group hands to the sibling. At the end, under the re-delivery rule (a batch counts once
 * system-wide by its entry hash): every batch and record counts exactly once (`countShards`, the
 * solver reading both shards), every receipt verifies against the key of the shard that issued it
 * (and not against the other), both shards pass `beepkit ledger verify --anchor` with their newest
 * tree heads anchored by two admitted gateway keys.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, toHex } from '@beepkit/protocol';
import { decodeMessage, encodeMessage, topics, type Receipt } from '@beepkit/protocol/wire';
import { decodeSth, keyIdOf } from '@beepkit/protocol/merkle';
import { hostNow } from '@beepkit/protocol/clock';
import { verifyReceipt } from '@beepkit/agent/uplink';
import { loadOrCreateKeys, type GatewayKeys } from '../src/ca/keys.ts';
import { Anvil } from '../src/anchor/anvil.ts';
import { EvmClient, hex32 } from '../src/anchor/evm.ts';
import { createEvmKey } from '../src/anchor/cli.ts';
import { Solver } from '../src/solver/solver.ts';
import { ledgerTracingSource } from '../src/solver/source.ts';
import { countShards, openShardsReadOnly } from '../src/solver/shards.ts';
import { DAY, Device, GW_PASSWORD, Pseudonym, bytesFrom, cid, mosquitto, prng, tempDir } from './gw-helpers.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'beepkit.js');
const DEV = 'device-shards-1';

function startChild(cfg: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'gateway', 'run', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: string): void => {
      out += d;
      if (out.includes('"ready":true')) {
        child.stdout!.removeListener('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before ready: ${out.slice(0, 2000)}`)));
  });
}

t.test(
  'two gateways, kill -9 each: every batch counts once system-wide, receipts verify per shard, both shards anchored',
  { skip: missing('mosquitto'), timeout: 240_000 },
  async (t) => {
    const tmp = tempDir('shards-kill');
    t.teardown(tmp.remove);
    const anvil = await new Anvil().start();
    t.teardown(() => anvil.stop());
    const rand = prng(1705);
    const admin = await EvmClient.connect({ rpcUrl: anvil.rpcUrl, privateKey: bytesFrom(rand, 32), pollMs: 20 });
    await admin.devFund(admin.address);
    const contract = (await admin.deploy('AnchorRegistry')).contractAddress;

    // shard 0 creates the CA and solver keys; shard 1 gets copies before its first start (README "Several gateways")
    const dirs = [`${tmp.dir}/gw0`, `${tmp.dir}/gw1`];
    const keys: GatewayKeys[] = [loadOrCreateKeys(dirs[0])];
    mkdirSync(join(dirs[1], 'keys'), { recursive: true, mode: 0o700 });
    for (const f of ['ca.key', 'solver.key']) {
      copyFileSync(join(dirs[0], 'keys', f), join(dirs[1], 'keys', f));
      chmodSync(join(dirs[1], 'keys', f), 0o600);
    }
    keys.push(loadOrCreateKeys(dirs[1]));
    t.ok(equalBytes(keys[0].caPublicKey, keys[1].caPublicKey), 'one CA for both shards');
    t.notOk(equalBytes(keys[0].gateway.publicKey, keys[1].gateway.publicKey), 'one ledger key per shard');

    const broker = mosquitto(`${tmp.dir}/mosq`, 0, [DEV]);
    await broker.start();
    t.teardown(() => broker.stop());
    const cfgs: string[] = [];
    for (const s of [0, 1]) {
      const account = createEvmKey(`${tmp.dir}/anchor-${s}.key`);
      await admin.devFund(account);
      await admin.write('AnchorRegistry', contract, 'admit', [hex32(keys[s].gateway.publicKey), account]);
      cfgs.push(`${tmp.dir}/gateway-${s}.yaml`);
      writeFileSync(
        cfgs[s],
        [
          `dataDir: ${dirs[s]}`,
          'broker:',
          `  url: ${broker.url}`,
          `  password: ${GW_PASSWORD}`,
          '  clientId: gw-shards',
          '  connections: 2',
          'http: { port: 0 }',
          'log: { level: warn }',
          'ingest: { verifyWorkers: 0 }',
          `shard: { id: ${s}, role: ${s === 0 ? 'main' : 'ingest'} }`,
          'anchor:',
          `  rpcUrl: ${anvil.rpcUrl}`,
          `  keyFile: ${tmp.dir}/anchor-${s}.key`,
          `  contract: '${contract}'`,
          '  intervalMs: 300',
          '  flushOnStopMs: 0',
          '',
        ].join('\n'),
      );
    }

    // batches of 1–3 records (intervals already begun today, whatever the host hour), one pseudonym each
    const nowS = Math.floor(hostNow() / 1000);
    const day = Math.floor(nowS / DAY);
    const begun = Math.floor((nowS % DAY) / 1800);
    const N = 120;
    const batches = Array.from({ length: N }, (_, i) =>
      new Pseudonym(rand, day).certify(keys[0].ca).batch(Array.from({ length: 1 + (i % Math.min(3, begun + 1)) }, (_, k) => k)),
    );
    const totalRecords = batches.reduce((a, _b, i) => a + 1 + (i % Math.min(3, begun + 1)), 0);

    const shardOf = (r: Receipt): number => keys.findIndex((k) => equalBytes(decodeSth(r.signedTreeHead).keyId, keyIdOf(k.gateway.publicKey)));
    const receipts = new Map<number, Receipt[]>();
    const errors: string[] = [];
    let onReceipt = (): void => {};
    const dev = await new Device(DEV, broker.url).start();
    t.teardown(() => dev.stop());
    dev.mqtt.onMessage((_topic, payload, ack) => {
      ack(true);
      const m = decodeMessage(payload);
      const i = new DataView(m.correlationId.buffer, m.correlationId.byteOffset, 8).getUint32(4);
      if (m.type === 'receipt') receipts.set(i, [...(receipts.get(i) ?? []), m]);
      else errors.push(m.type === 'error' ? `${i}: ${m.code} ${m.message}` : `${i}: ${m.type}`);
      onReceipt();
    });
    const send = (i: number): void =>
      void dev.mqtt
        .publish(topics.uplinkBatch(DEV), encodeMessage({ type: 'upload-batch', correlationId: cid(i), batch: batches[i] }), { qos: 1 })
        .catch(() => {});
    const until = (pred: () => boolean, what: string, ms = 60_000): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}: ${receipts.size}/${N} receipted, errors ${errors.slice(0, 3).join('; ')}`)),
          ms,
        );
        onReceipt = () => {
          if (!pred()) return;
          clearTimeout(timer);
          resolve();
        };
        onReceipt();
      });
    const by = (s: number): number[] => [...receipts].filter(([, rs]) => rs.some((r) => shardOf(r) === s)).map(([i]) => i);

    const children: ChildProcess[] = [await startChild(cfgs[0]), await startChild(cfgs[1])];
    t.teardown(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
    let next = 0;
    const sendUpTo = (k: number): void => {
      for (; next < k; next++) send(next);
    };
    const resentReceipted: number[] = [];
    // kill 1: the ingest shard; kill 2: the main shard, each at a seeded point of the stream
    for (const victim of [1, 0]) {
      const k = next + 30 + Math.floor(rand() * 10);
      const had = by(victim).length;
      sendUpTo(k);
      await until(() => by(victim).length >= had + 5, `receipts before killing shard ${victim}`);
      const exited = new Promise((r) => children[victim].once('exit', r));
      children[victim].kill('SIGKILL');
      await exited;
      // the device re-sends what has no receipt, and 4 batches the dead shard had receipted (their receipts lost)
      for (let i = 0; i < next; i++) if (!receipts.has(i)) send(i);
      for (const i of by(victim).slice(-4)) {
        resentReceipted.push(i);
        send(i);
      }
      await until(
        () => by(1 - victim).some((i) => resentReceipted.includes(i) && receipts.get(i)!.some((r) => shardOf(r) === 1 - victim)),
        `a re-sent batch receipted by shard ${1 - victim}`,
        30_000,
      );
      children[victim] = await startChild(cfgs[victim]);
    }
    sendUpTo(N);
    await until(() => receipts.size === N, 'every batch receipted');
    t.same(errors, [], 'no batch refused');

    // every receipt verifies against the key of the shard that issued it, and not against the other one
    let checked = 0;
    const perShard = [0, 0];
    const crossShard = [...receipts].filter(([, rs]) => new Set(rs.map(shardOf)).size > 1).map(([i]) => i);
    for (const [i, rs] of receipts) {
      for (const r of rs) {
        const s = shardOf(r);
        const own = verifyReceipt(r, batches[i], keys[s]?.gateway.publicKey ?? new Uint8Array(32)).ok;
        const other = verifyReceipt(r, batches[i], keys[1 - s]?.gateway.publicKey ?? new Uint8Array(32)).ok;
        // an agent configured with both keys (anchors.gatewayPublicKey + anchors.shardPublicKeys) accepts it
        const agent = verifyReceipt(
          r,
          batches[i],
          keys.map((k) => k.gateway.publicKey),
        ).ok;
        if (s < 0 || !own || other || !agent) t.fail(`receipt of batch ${i} (shard ${s}): own key ${own}, other key ${other}, both ${agent}`);
        else {
          checked++;
          perShard[s]++;
        }
      }
    }
    t.ok(
      perShard[0] > 0 && perShard[1] > 0,
      `${checked} receipts verify against their own shard's key, not the other, and under both keys as an agent holds them (${perShard.join(' / ')})`,
    );
    t.ok(crossShard.length >= 1, `${crossShard.length} batch(es) durable on both shards with a receipt from each`);
    const again = resentReceipted.filter((i) => !crossShard.includes(i)).length;
    t.comment(
      `of ${resentReceipted.length} receipted batches re-sent while their shard was down, ${resentReceipted.length - again} reached the sibling; ${again} waited in the dead shard's session (mosquitto queues for offline share-group members) and got the original receipt again after its restart`,
    );

    // both shards anchored by their own admitted key
    const sizes = await Promise.all(
      dirs.map(async (d) => {
        const [s] = await openShardsReadOnly([join(d, 'ledger')]);
        const n = (await s.ledger.sth('tracing'))!.treeSize;
        await s.ledger.close();
        return n;
      }),
    );
    for (const s of [0, 1]) {
      const deadline = hostNow() + 30_000;
      while ((await admin.latestAnchor(contract, keys[s].gateway.publicKey, 'tracing')).treeSize < sizes[s] && hostNow() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(
      children.map((c) => {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        return exited;
      }),
    );

    // the re-delivery rule: counted once system-wide
    const shards = await openShardsReadOnly(dirs.map((d) => join(d, 'ledger')));
    t.teardown(() => Promise.allSettled(shards.map((s) => s.ledger.close())));
    const count = await countShards(shards);
    t.equal(count.batches, N, `every batch counted once (${count.shards.map((s) => s.tracingEntries).join(' + ')} entries on the shards)`);
    t.equal(count.records, totalRecords, `every record counted once (${totalRecords})`);
    t.equal(count.duplicates, crossShard.length, 'the duplicates are exactly the batches durable on both shards');
    t.equal(count.shards[0].tracingEntries + count.shards[1].tracingEntries, N + crossShard.length, 'no batch twice on one shard');
    const solver = new Solver({
      source: ledgerTracingSource(shards[0].ledger),
      shards: [ledgerTracingSource(shards[1].ledger)],
      sink: { publish: async () => undefined },
      solverKey: new Uint8Array(readFileSync(keys[0].solverKeyFile)),
      caPub: keys[0].caPublicKey,
      now: hostNow,
    });
    solver.open();
    await solver.catchUp();
    t.equal(solver.stats.records + solver.stats.undecryptable, totalRecords, 'the solver reads every record of both shards once');
    t.equal(solver.stats.duplicateBatches, crossShard.length, 'and skips the second copies');
    t.equal(solver.stats.conflictingClaims + solver.stats.rejectedBatches, 0, 'no copy taken for a conflicting claim');

    for (const s of [0, 1]) {
      const v = spawnSync(process.execPath, [BIN, 'ledger', 'verify', join(dirs[s], 'ledger'), '--anchor', anvil.rpcUrl, '--contract', contract], {
        encoding: 'utf8',
      });
      t.equal(v.status, 0, `shard ${s}: beepkit ledger verify --anchor: ${v.stderr}`);
      if (v.status === 0)
        t.equal(
          (JSON.parse(v.stdout) as { newestAnchored: Record<string, number> }).newestAnchored.tracing,
          sizes[s],
          `shard ${s}: its newest tree head is anchored under its own key ${toHex(keys[s].gateway.publicKey).slice(0, 8)}…`,
        );
    }
    const c = spawnSync(process.execPath, [BIN, 'ledger', 'count', ...dirs.map((d) => join(d, 'ledger'))], { encoding: 'utf8' });
    t.equal(c.status, 0, `beepkit ledger count: ${c.stderr}`);
    if (c.status === 0)
      t.match(JSON.parse(c.stdout), { batches: N, records: totalRecords, duplicates: crossShard.length }, 'beepkit ledger count says the same');
  },
);
