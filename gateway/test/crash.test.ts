/**
 * kill -9 of `beepkit gateway run` (a child process, real mosquitto) at seeded
 * points under load. The publisher records every receipt and re-sends what was
 * not receipted. After the last restart: `ledger verify` passes, every batch
 * whose receipt arrived is present exactly once, and every re-sent batch landed
 * exactly once.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol';
import { encodeMessage, topics } from '@beepkit/protocol/wire';
import { loadOrCreateKeys } from '../src/ca/keys.ts';
import { EmbeddedLedger, verifyLedgerDir } from '../src/ledger/index.ts';
import { DAY, Device, GW_PASSWORD, Pseudonym, cid, mosquitto, prng, recordHash, tempDir } from './gw-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'beepkit.js');

function startChild(cfg: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'gateway', 'run', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('"ready":true')) resolve(child);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before ready: ${out.slice(0, 2000)}`)));
  });
}

t.test('kill -9 under load: receipted batches present exactly once, re-sent ones land once', { skip: missing('mosquitto'), timeout: 240_000 }, async (t) => {
  const tmp = tempDir('crash');
  t.teardown(tmp.remove);
  const broker = mosquitto(`${tmp.dir}/mosq`, 0, ['device-crash-1']);
  await broker.start();
  t.teardown(() => broker.stop());
  const dataDir = `${tmp.dir}/gw`;
  const keys = loadOrCreateKeys(dataDir);
  const cfg = `${tmp.dir}/gateway.yaml`;
  writeFileSync(
    cfg,
    `dataDir: ${dataDir}\nbroker:\n  url: ${broker.url}\n  password: ${GW_PASSWORD}\n  clientId: gw-crash\n  connections: 2\nhttp: { port: 0 }\nlog: { level: warn }\n`,
  );

  const rand = prng(424242);
  const nowS = Math.floor(hostNow() / 1000);
  const day = Math.floor(nowS / DAY);
  const maxInterval = Math.min(3, Math.floor((nowS - day * DAY) / 1800));
  const N = 600;
  const batches: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const p = new Pseudonym(rand, day).certify(keys.ca);
    batches.push(p.batch(Array.from({ length: 1 + (i % (maxInterval + 1)) }, (_, k) => k)));
  }
  const receipted = new Set<number>();
  const dev = await new Device('device-crash-1', broker.url).start();
  t.teardown(() => dev.stop());
  let onReceipt = (): void => {};
  dev.mqtt.onMessage((_topic, payload, ack) => {
    ack(true);
    if (payload[3] === 0x02) receipted.add(new DataView(payload.buffer, payload.byteOffset + 4, 8).getUint32(4)); // receipt: its correlation id
    onReceipt();
  });
  const send = (i: number): Promise<void> =>
    dev.mqtt.publish(topics.uplinkBatch('device-crash-1'), encodeMessage({ type: 'upload-batch', correlationId: cid(i), batch: batches[i] }), { qos: 1 });
  const waitReceipts = (n: number): Promise<void> =>
    new Promise((resolve) => {
      onReceipt = () => {
        if (receipted.size >= n) resolve();
      };
      onReceipt();
    });

  let child = await startChild(cfg);
  // Seeded kill points (batches sent). The publisher pauses while the gateway is down and,
  // like an agent's outbox, re-sends only what it has sent without a receipt, so every kill
  // lands mid-stream (at most `sent` < N receipts) however fast ingest is.
  const kills = [100, 300, 500].map((k) => k + Math.floor(rand() * 50));
  let sent = 0;
  let gate: Promise<void> = Promise.resolve();
  let atKill = (): void => {};
  const sendAllPending = (): void => {
    for (let i = 0; i < sent; i++) if (!receipted.has(i)) void send(i).catch(() => {});
  };
  const pacer = (async () => {
    for (let i = 0; i < N; i++) {
      await gate;
      void send(i).catch(() => {});
      sent++;
      atKill();
      await new Promise((r) => setTimeout(r, 8)); // steady load
    }
  })();
  for (const k of kills) {
    let release = (): void => {};
    await new Promise<void>((resolve) => {
      atKill = () => {
        if (sent < k) return;
        gate = new Promise<void>((r) => (release = r)); // the pacer stops before its next send
        resolve();
      };
      atKill();
    });
    atKill = () => {};
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    const at = receipted.size;
    await exited;
    t.ok(at < N, `killed with ${at} receipts after ${sent} batches sent`);
    child = await startChild(cfg);
    sendAllPending(); // the publisher re-sends whatever it sent without a receipt
    release();
  }
  await pacer;
  sendAllPending();
  const resend = setInterval(sendAllPending, 5000);
  await waitReceipts(N);
  clearInterval(resend);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'graceful stop on SIGTERM');

  const report = verifyLedgerDir(join(dataDir, 'ledger'), {});
  t.ok(report.ok, `ledger verify: ${report.problem ?? 'ok'}`);
  const ledger = new EmbeddedLedger({ dir: join(dataDir, 'ledger'), readOnly: true });
  await ledger.open();
  t.teardown(() => ledger.close());
  t.equal((await ledger.sth('tracing'))!.treeSize, N, 'exactly one entry per batch');
  let missing = 0;
  for (const b of batches) {
    const first = 41 + ((b[37] << 8) | b[38]);
    const e = await ledger.getByKey('tracing', recordHash(b.subarray(first, first + 89)));
    if (!e || toHex(e.data) !== toHex(b)) missing++;
  }
  t.equal(missing, 0, 'every receipted batch is on the ledger, byte for byte');
});
