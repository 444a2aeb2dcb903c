/**
 * Gateway ingest: simulated agents → tuned mosquitto (QoS 1) → Gateway (K shared
 * connections, deferred PUBACK after the durable group commit) → embedded ledger,
 * signed batches of 1–28 TraceCodes, until every receipt is back. Compared with
 * mosquitto's own rate to a no-op subscriber at the same message size, same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE_PATTERNS, findMosquitto, hashPassword, MosquittoRunner } from '@beepkit/gateway/broker';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { Gateway, resolveConfig } from '@beepkit/gateway/app';
import { loadOrCreateKeys } from '@beepkit/gateway/ca';
import { encodeMessage, topics } from '@beepkit/protocol/wire';
import { Pseudonym, prng } from '../gateway/test/gw-fixtures.ts';
import { goal, sample, summarise, type Bench, type BenchResult } from './lib.ts';

const DAY = 86_400;
const AGENTS = 4;
const PW = 'bench-pw';
const devId = (i: number): string => `bench-agent-${String(i).padStart(4, '0')}`;

function client(url: string, user: string, clientId: string): GatewayMqtt {
  const c = new GatewayMqtt({ url, clientId, username: user, password: PW, clean: true, maxInflight: 5000 });
  c.on('error', () => {});
  return c;
}

/** mosquitto → one no-op subscriber, `n` messages of `bytes`: msg/s. */
async function brokerRate(url: string, n: number, bytes: number): Promise<number> {
  const sub = client(url, 'gateway', 'bench-gi-sub');
  const pub = client(url, devId(0), 'bench-gi-pub');
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  sub.onMessage((_t, _p, ack) => {
    ack(true);
    if (++got === n) done();
  });
  await sub.start();
  await sub.subscribe('beepkit/v1/dev/+/up/+', 1);
  await pub.start();
  const body = Buffer.alloc(bytes, 0xa5);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => pub.publish(topics.uplinkBatch(devId(0)), body, { qos: 1 })));
  await all;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await pub.stop();
  await sub.stop();
  return n / s;
}

async function gatewayRun(url: string, dataDir: string, payloads: Uint8Array[][], records: number, now: number, connections: number): Promise<{ codes: number; msgs: number }> {
  const gw = new Gateway({
    config: resolveConfig({ dataDir, broker: { url, password: PW, connections, clientId: `bench-gw-${Date.now()}` }, http: { port: 0 }, log: { level: 'silent' }, ingest: { rateBurst: 1e9, ratePerSecond: 1e9 } }),
    now: () => now,
  });
  await gw.start();
  const agents = payloads.map((_, i) => client(url, devId(i), `bench-agent-c${i}`));
  const total = payloads.reduce((a, p) => a + p.length, 0);
  let replies = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  for (const a of agents) {
    a.onMessage((_t, p, ack) => {
      ack(true);
      if (p[3] === 0x02 && ++replies === total) done();
    });
  }
  await Promise.all(agents.map(async (a, i) => {
    await a.start();
    await a.subscribe(topics.reply(devId(i)), 1);
  }));
  const t0 = process.hrtime.bigint();
  await Promise.all(agents.map((a, i) => Promise.all(payloads[i].map((p) => a.publish(topics.uplinkBatch(devId(i)), p, { qos: 1 })))));
  await all;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(agents.map((a) => a.stop()));
  await gw.stop();
  return { codes: records / s, msgs: total / s };
}

const bench: Bench = {
  name: 'gateway-ingest',
  description: `${AGENTS} agents -> tuned mosquitto (QoS 1) -> gateway -> durable ledger; signed batches of 1-28 TraceCodes`,
  async run(ctx): Promise<BenchResult> {
    const notes: string[] = [];
    if (!findMosquitto()) return { metrics: {}, notes: ['mosquitto not installed: skipped'] };
    const n = ctx.smoke ? 1000 : 12_000;
    const connections = Number(process.env.BENCH_GW_CONNECTIONS ?? 64);
    const dir = mkdtempSync(join(os.tmpdir(), 'beepkit-bench-gi-'));
    const creds: Record<string, string> = { gateway: hashPassword(PW, { iterations: 1000 }) };
    for (let i = 0; i < AGENTS; i++) creds[devId(i)] = hashPassword(PW, { iterations: 1000 });
    const mosq = new MosquittoRunner({ dir: join(dir, 'mosq'), port: 22190, credentials: creds, acl: { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS }, queues: 'tuned' });
    try {
      await mosq.start();
      const day = 20_602;
      const now = (day * DAY + DAY - 60) * 1000;
      const rand = prng(77);
      const metrics: BenchResult['metrics'] = {};
      const codesS: number[] = [];
      const msgsS: number[] = [];
      let bytes = 0;
      for (let rep = 0; rep < ctx.repeats; rep++) {
        const keys = loadOrCreateKeys(join(dir, `gw${rep}`));
        const payloads: Uint8Array[][] = Array.from({ length: AGENTS }, () => []);
        let records = 0;
        for (let i = 0; i < n; i++) {
          const p = new Pseudonym(rand, day).certify(keys.ca);
          const k = 1 + Math.floor(rand() * 28);
          records += k;
          const m = encodeMessage({ type: 'upload-batch', correlationId: new Uint8Array(8), batch: p.batch(Array.from({ length: k }, (_, j) => j)) });
          bytes += m.length;
          payloads[i % AGENTS].push(m);
        }
        const r = await gatewayRun(mosq.url, join(dir, `gw${rep}`), payloads, records, now, connections);
        codesS.push(r.codes);
        msgsS.push(r.msgs);
        ctx.log(`gateway: ${Math.round(r.codes)} TraceCodes/s, ${Math.round(r.msgs)} msg/s`);
      }
      const meanBytes = Math.round(bytes / (n * ctx.repeats));
      const base = await sample(ctx.repeats, () => brokerRate(mosq.url, n, meanBytes));
      metrics.tracecodes_per_s = summarise(codesS, 'TraceCodes/s');
      metrics.msgs_per_s = summarise(msgsS, 'msg/s');
      metrics.broker_noop_msgs_per_s = summarise(base, 'msg/s');
      metrics.ratio_to_broker = summarise([metrics.msgs_per_s.median / metrics.broker_noop_msgs_per_s.median], 'ratio');
      notes.push(`${n} batches per sample (1-28 records, mean payload ${meanBytes} B), ${AGENTS} agent connections, ${connections} gateway connections ($share), fdatasync group commit`);
      return {
        metrics,
        goals: { tracecodes_per_s: goal(metrics.tracecodes_per_s.median, '>=', 100_000), ratio_to_broker: goal(metrics.ratio_to_broker.median, '>=', 0.8) },
        notes,
      };
    } finally {
      await mosq.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
