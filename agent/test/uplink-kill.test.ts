/**
 * Crash safety of outbox + uplink: a child agent uploads 1 000 TraceCodes to
 * the real gateway over real mosquitto and is killed with SIGKILL at seeded
 * random points (after a random number of its progress lines); restarted
 * each time, it finishes. Every TraceCode is on the ledger exactly once
 * (counted by record hash over the ledger entries' keys), and the broker
 * published the agent's last will (offline status) after the kills.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { toHex } from '@beepkit/protocol';
import { recordHash } from '@beepkit/protocol/tracecode';
import { decodeMessage, topics } from '@beepkit/protocol/wire';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { CertStore } from '../src/ca-client/index.ts';
import { DAY, GW_PASSWORD, certify, dayKeySource, mosquitto, prng, startGateway, tempDir, traceCode } from './net-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const DEVICE = 'agent-kill-1';
const TOTAL = 1000;
const KILLS = 5;
const SEED = 4242;
const TODAY = Math.floor(hostNow() / 1000 / DAY);
const FROM_DAY = TODAY - 30;

t.test('kill -9 during 1 000 uploads: every TraceCode reaches the ledger exactly once', { skip: missing('mosquitto'), timeout: 240_000 }, async (t) => {
  const tmp = tempDir('uplink-kill');
  t.teardown(tmp.remove);
  const broker = mosquitto(join(tmp.dir, 'mosq'), 0, [DEVICE]);
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = await startGateway(join(tmp.dir, 'gw'), broker.url, 0);
  t.teardown(() => gw.stop());

  // 1 000 TraceCodes over the last 21 days, 48 intervals a day; certificates for each day
  const keys = dayKeySource(SEED, FROM_DAY);
  const rand = prng(SEED);
  const agentDir = join(tmp.dir, 'agent');
  const certs = await new CertStore(join(agentDir, 'certs')).load();
  const rows: Uint8Array[] = [];
  const hashes: string[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const day = TODAY - 21 + Math.floor(i / 48);
    if (i % 48 === 0)
      await certs.put({
        day,
        certificate: certify(gw, keys(day).pseudonym, day, (TODAY + 2) * DAY),
        solverPublicKey: gw.keys.solverPublicKey,
        solverKeyId: gw.keys.solverKeyId,
      });
    const code = traceCode(rand, keys(day).pseudonym, i % 48);
    hashes.push(toHex(recordHash(code)));
    const row = new Uint8Array(93);
    new DataView(row.buffer).setUint32(0, day);
    row.set(code, 4);
    rows.push(row);
  }
  writeFileSync(join(agentDir, 'codes.bin'), Buffer.concat(rows));

  const watcher = new GatewayMqtt({ url: broker.url, clientId: 'kill-watcher', username: 'gateway', password: GW_PASSWORD, clean: true });
  const states: string[] = [];
  watcher.onMessage((_topic, payload, ack) => {
    ack(true);
    const m = decodeMessage(payload);
    if (m.type === 'device-status') states.push(m.state);
  });
  await watcher.start();
  t.teardown(() => watcher.stop());
  await watcher.subscribe(topics.status(DEVICE), 1);

  const args = [agentDir, broker.url, DEVICE, toHex(gw.keys.gateway.publicKey), String(SEED), String(FROM_DAY)];
  const killAt = prng(SEED + 1);
  const life = (kill: number | undefined): Promise<{ killed: boolean; lines: number }> => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/uplink-child.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => child.kill('SIGKILL'));
    let lines = 0;
    let killed = false;
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines++;
        if (line.startsWith('quarantined')) reject(new Error(`child quarantined a batch: ${line}`));
        if (kill !== undefined && lines === kill && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
        if (line === 'done') child.kill('SIGTERM');
      });
      child.once('exit', () => resolve({ killed, lines }));
    });
  };
  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    const r = await life(5 + Math.floor(killAt() * 40));
    if (r.killed) kills++;
  }
  const last = await life(undefined);
  t.ok(last.lines > 0, 'the last life finished');
  t.equal(kills, KILLS, 'every life was killed mid-run');

  const seen = new Map<string, number>();
  for (let h = 0; ;) {
    const blocks = await gw.ledger.blocks('tracing', h, 64);
    if (!blocks.length) break;
    // record hashes (32 bytes); the 16-byte claim keys (one per record and interval, protocol/SPEC.md §7.4) are not counted
    for (const b of blocks) for (const e of b.entries) for (const k of e.keys) if (k.length === 32) seen.set(toHex(k), (seen.get(toHex(k)) ?? 0) + 1);
    h += blocks.length;
  }
  t.equal(seen.size, TOTAL, 'exactly the 1 000 record hashes are on the ledger');
  t.ok(
    hashes.every((h) => seen.get(h) === 1),
    'each TraceCode exactly once',
  );
  t.ok((await gw.ledger.verify()).ok, 'ledger verifies');
  t.ok(states.includes('offline'), 'the last will (offline status) was published after a kill');
  t.ok(states.includes('online'), 'online status on connect');
});
