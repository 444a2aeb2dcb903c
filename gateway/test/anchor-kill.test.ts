/**
 * kill -9 of `beepkit gateway run` (a child process, real mosquitto, real anvil) while it
 * ingests and anchors after every tree head. After each restart the anchorer resolves its
 * journalled transaction and reads the chain; at the end every anchored size is unique and
 * growing per chain (nothing anchored twice), the newest anchored tree head is the local log's
 * newest (nothing left unanchored), and `beepkit ledger verify --anchor` passes.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMessage, topics } from '@beepkit/protocol/wire';
import { hostNow } from '@beepkit/protocol/clock';
import { loadOrCreateKeys } from '../src/ca/keys.ts';
import { Anvil } from '../src/anchor/anvil.ts';
import { EvmClient, hex32 } from '../src/anchor/evm.ts';
import { createEvmKey } from '../src/anchor/cli.ts';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { DAY, Device, GW_PASSWORD, Pseudonym, bytesFrom, cid, mosquitto, prng, tempDir } from './gw-helpers.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'beepkit.js');

let onLine = (): void => {};
function startChild(cfg: string, lines: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'gateway', 'run', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      lines.push(...d.split('\n').filter(Boolean));
      onLine();
      if (out.includes('"ready":true')) resolve(child);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before ready: ${out.slice(0, 2000)}`)));
  });
}

t.test('kill -9 while anchoring: nothing anchored twice, nothing left unanchored', { skip: missing('mosquitto'), timeout: 180_000 }, async (t) => {
  const tmp = tempDir('anchor-kill');
  t.teardown(tmp.remove);
  const anvil = await new Anvil().start();
  t.teardown(() => anvil.stop());
  const rand = prng(3117);
  const admin = await EvmClient.connect({ rpcUrl: anvil.rpcUrl, privateKey: bytesFrom(rand, 32), pollMs: 20 });
  await admin.devFund(admin.address);
  const contract = (await admin.deploy('AnchorRegistry')).contractAddress;
  const dataDir = `${tmp.dir}/gw`;
  const keys = loadOrCreateKeys(dataDir);
  const account = createEvmKey(`${tmp.dir}/anchor.key`);
  await admin.devFund(account);
  await admin.write('AnchorRegistry', contract, 'admit', [hex32(keys.gateway.publicKey), account]);

  const broker = mosquitto(`${tmp.dir}/mosq`, 0, ['device-anchor-1']);
  await broker.start();
  t.teardown(() => broker.stop());
  const cfg = `${tmp.dir}/gateway.yaml`;
  writeFileSync(
    cfg,
    [
      `dataDir: ${dataDir}`,
      'broker:',
      `  url: ${broker.url}`,
      `  password: ${GW_PASSWORD}`,
      '  clientId: gw-anchor-kill',
      'http: { port: 0 }',
      'log: { level: info }',
      'anchor:',
      `  rpcUrl: ${anvil.rpcUrl}`,
      `  keyFile: ${tmp.dir}/anchor.key`,
      `  contract: '${contract}'`,
      '  intervalMs: 500',
      '  everyTreeHeads: 1',
      '  flushOnStopMs: 0',
      '',
    ].join('\n'),
  );

  const nowS = Math.floor(hostNow() / 1000);
  const day = Math.floor(nowS / DAY);
  const N = 60;
  const batches = Array.from({ length: N }, () => new Pseudonym(rand, day).certify(keys.ca).batch([0]));
  const receipted = new Set<number>();
  const dev = await new Device('device-anchor-1', broker.url).start();
  t.teardown(() => dev.stop());
  let onReceipt = (): void => {};
  dev.mqtt.onMessage((_topic, payload, ack) => {
    ack(true);
    if (payload[3] === 0x02) receipted.add(new DataView(payload.buffer, payload.byteOffset + 4, 8).getUint32(4));
    onReceipt();
  });
  const send = (i: number): Promise<void> =>
    dev.mqtt.publish(topics.uplinkBatch('device-anchor-1'), encodeMessage({ type: 'upload-batch', correlationId: cid(i), batch: batches[i] }), { qos: 1 });
  const receipts = (n: number): Promise<void> =>
    new Promise((resolve) => {
      onReceipt = () => void (receipted.size >= n && resolve());
      onReceipt();
    });

  const lines: string[] = [];
  let child = await startChild(cfg, lines);
  const kill = async (): Promise<void> => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    child = await startChild(cfg, lines);
  };
  const sentTx = (): number => lines.filter((l) => l.includes('anchor transaction sent')).length;
  const nextTx = (after: number): Promise<void> =>
    new Promise((resolve) => {
      onLine = () => void (sentTx() > after && resolve());
      onLine();
    });
  // kill 1: right after the gateway journalled and sent an anchor transaction, before its receipt;
  // kill 2: at a seeded point of the ingest stream
  let next = 0;
  const sendUpTo = (k: number): void => {
    for (; next < k; next++) void send(next).catch(() => {});
  };
  const resend = (): void => {
    for (let i = 0; i < next; i++) if (!receipted.has(i)) void send(i).catch(() => {});
  };
  const before = sentTx();
  sendUpTo(20);
  await nextTx(before);
  await kill();
  resend();
  const k2 = 35 + Math.floor(rand() * 10);
  sendUpTo(k2);
  await receipts(k2);
  await kill();
  resend();
  sendUpTo(N);
  await receipts(N);
  const anchoredBeforeLastKill = (await admin.latestAnchor(contract, keys.gateway.publicKey, 'tracing')).treeSize;
  const ledgerSize = async (): Promise<number> => {
    const l = new EmbeddedLedger({ dir: join(dataDir, 'ledger'), readOnly: true });
    await l.open();
    const n = (await l.sth('tracing'))!.treeSize;
    await l.close();
    return n;
  };
  const local = await ledgerSize();
  t.equal(local, N, 'every batch once on the ledger');
  const deadline = hostNow() + 30_000;
  while ((await admin.latestAnchor(contract, keys.gateway.publicKey, 'tracing')).treeSize < local && hostNow() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  t.equal(
    (await admin.latestAnchor(contract, keys.gateway.publicKey, 'tracing')).treeSize,
    local,
    `the newest tree head is anchored (${anchoredBeforeLastKill} when the last batch was receipted)`,
  );
  const afterKill2 = lines.filter((l) => l.includes('tree heads anchored')).map((l) => Number(/tracing:(\d+)/.exec(l)?.[1] ?? 0));
  t.ok(
    afterKill2.some((n) => n >= k2),
    'the restart after the mid-stream kill anchored the backlog the killed process left',
  );
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'graceful stop');

  const heads = await admin.anchoredHeads(contract, keys.gateway.publicKey);
  const sizes = heads.filter((h) => h.chain === 'tracing').map((h) => h.treeSize);
  t.ok(
    sizes.every((s, i) => i === 0 || s > sizes[i - 1]),
    'anchored sizes strictly grow: nothing anchored twice',
  );
  t.ok(sizes.length >= 2, `${sizes.length} anchors of the tracing chain across 2 kills`);
  const journal = readFileSync(join(dataDir, 'anchor', 'journal'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { t: string; hash?: string });
  const sent = journal.filter((r) => r.t === 'sent').map((r) => r.hash);
  t.ok(
    sent.every((h) => journal.some((r) => r.t !== 'sent' && r.hash === h)),
    'no journalled transaction left unresolved',
  );
  t.ok(
    lines.some((l) => l.includes('tree heads anchored')),
    'the gateway logs its anchors',
  );

  const v = spawnSync(process.execPath, [BIN, 'ledger', 'verify', join(dataDir, 'ledger'), '--anchor', anvil.rpcUrl, '--contract', contract], {
    encoding: 'utf8',
  });
  t.equal(v.status, 0, `beepkit ledger verify --anchor: ${v.stderr}`);
  const rep = JSON.parse(v.stdout) as { newestAnchored: Record<string, number> };
  t.equal(rep.newestAnchored.tracing, N, 'it reports the newest anchored size');
});
