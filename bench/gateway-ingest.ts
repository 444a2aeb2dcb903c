/**
 * Gateway ingest: simulated agents → tuned mosquitto (QoS 1) → Gateway (K shared
 * connections, deferred PUBACK after the durable group commit) → embedded ledger,
 * signed batches of 1–28 TraceCodes, until every receipt is back at its agent.
 *
 * Three processes, as in a deployment: mosquitto, the gateway (this process)
 * and the load generator (a child process running the agents' MQTT clients,
 * this same file with BEEPKIT_GI_CHILD=1), so the gateway's event loop does
 * no client work. Baseline, same run, same shape: the same child publishes the
 * same number of messages of the mean payload size through the same mosquitto
 * to K no-op subscribers in this process (same `$share` layout, PUBACK from the
 * handler). Realism: a pseudonym (one device-day) uploads several batches
 * (BENCH_GI_REUSE, default 4), so the gateway verifies its certificate once
 * and then one batch signature per message; BENCH_GI_REUSE=1 is the worst case
 * (a new pseudonym per batch: two Ed25519 verifies per message).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DEVICE_PATTERNS, hashPassword, MosquittoRunner } from '@beepkit/gateway/broker';
import { requireTool } from '../scripts/tools.ts';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { EmbeddedLedger } from '@beepkit/gateway/ledger';
import { Ingest, batchKeys, type IngestOptions } from '@beepkit/gateway/ingest';
import { Gateway, resolveConfig } from '@beepkit/gateway/app';
import { loadOrCreateKeys } from '@beepkit/gateway/ca';
import { encodeMessage, topics } from '@beepkit/protocol/wire';
import { Pseudonym, prng } from '@beepkit/gateway/testing';
import { goal, summarise, type Bench, type BenchResult } from './lib.ts';
import { hostNow } from '@beepkit/protocol/clock';

const DAY = 86_400;
export const DAY_NO = 20_602;
/** The benches' clock: the end of day DAY_NO, so every batch of that day is in ingest's window. */
const BENCH_NOW_MS = (DAY_NO * DAY + DAY - 60) * 1000;
export const AGENTS = 4;
export const PW = 'bench-pw';
export const devId = (i: number): string => `bench-agent-${String(i).padStart(4, '0')}`;

/** Records per batch: 'uniform' 1-28, or 'day' (always 28: a day's batch under the charging-wifi policy). */
export type Shape = 'uniform' | 'day';
export interface Prepare {
  url: string;
  mode: 'gateway' | 'broker';
  n: number;
  seed: number;
  reuse: number;
  caDir: string;
  bytes: number;
  shape: Shape;
}
type FromChild = { ready: true; records: number; bytes: number } | { done: true; cpuUs: number } | { error: string };

export function client(url: string, user: string, clientId: string): GatewayMqtt {
  const c = new GatewayMqtt({ url, clientId, username: user, password: PW, clean: true, maxInflight: 5000 });
  c.on('error', () => {});
  return c;
}

/** A free TCP port on 127.0.0.1 (listen on 0, close). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * `n` signed UploadBatch payloads of 1-28 (or 28) TraceCodes, a new pseudonym every `reuse` batches, or sooner when
 * its day's 48 intervals would run out: one record per pseudonym-day and interval (E_CONFLICT otherwise).
 */
function batches(
  ca: ReturnType<typeof loadOrCreateKeys>['ca'],
  n: number,
  seed: number,
  reuse: number,
  each: (m: { payload: Uint8Array; records: number }, i: number) => void,
  shape: Shape = 'uniform',
): void {
  const rand = prng(seed);
  let ps: Pseudonym | undefined;
  let used = 0;
  let since = 0;
  for (let i = 0; i < n; i++) {
    const k = shape === 'day' ? 28 : 1 + Math.floor(rand() * 28);
    if (!ps || since === reuse || used + k > 48) {
      ps = new Pseudonym(rand, DAY_NO).certify(ca);
      used = 0;
      since = 0;
    }
    each(
      {
        payload: encodeMessage({ type: 'upload-batch', correlationId: new Uint8Array(8), batch: ps.batch(Array.from({ length: k }, (_, j) => used + j)) }),
        records: k,
      },
      i,
    );
    used += k;
    since++;
  }
}

/**
 * CPU µs per batch of Ingest.handle alone (decode, certificate, verify, rate,
 * durable append, receipt) on an embedded ledger, 64 batches in flight, no
 * MQTT: the gateway's own work, much less disturbed by machine load than rates.
 */
async function ingestCpu(dir: string, n: number, seed: number, reuse: number): Promise<number> {
  const keys = loadOrCreateKeys(dir);
  const payloads: Uint8Array[] = [];
  batches(keys.ca, n, seed, reuse, (m) => payloads.push(m.payload));
  const ledger = new EmbeddedLedger({ now: hostNow, dir: join(dir, 'ledger'), signer: keys.gateway });
  await ledger.open();
  try {
    const ingest = new Ingest({
      ledger,
      caPublicKey: keys.caPublicKey,
      caSigner: keys.ca,
      now: () => BENCH_NOW_MS,
      rate: { burst: 1e9, perSecond: 1e9 },
    });
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i += 64) await Promise.all(payloads.slice(i, i + 64).map((p) => ingest.handle(p)));
    const c = process.cpuUsage(c0);
    await ingest.stop();
    return (c.user + c.system) / n;
  } finally {
    await ledger.close();
  }
}

/**
 * CPU µs of one Ed25519 verification (node:crypto, the gateway's verify) of a
 * day batch's signed bytes on this core, measured beside each sample: the floor
 * of the gateway's work per message (one batch signature), for the ratio goal.
 */
export function verifyCpuUs(n = 2000): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const msg = new Uint8Array(2772).fill(0x5a);
  const sig = sign(null, msg, privateKey);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) if (!verify(null, msg, publicKey, sig)) throw new Error('verify failed');
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

/**
 * CPU µs, in this process, of the rest of the protocol's work for a day-28 batch under a certificate not seen before,
 * at a gateway holding the CA key: the certificate's check by re-signing (one Ed25519 signature of a certificate
 * body with its domain, ~110 B) and the batch's 28 record hashes and 28 claim keys (`batchKeys`). With the batch's
 * verify, the floor no storage or MQTT change can go under.
 */
export function floorPartsUs(n = 2000): { signUs: number; keysUs: number } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const body = new Uint8Array(110).fill(0x3c);
  let c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) sign(null, body, privateKey);
  let c = process.cpuUsage(c0);
  const signUs = (c.user + c.system) / n;
  const records = Buffer.from(new Uint8Array(28 * 89).map((_, i) => (i * 31) & 255)); // a Buffer, as MQTT hands ingest
  const prefix = new Uint8Array(32).fill(7);
  c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) batchKeys(records, 0, 28, prefix, DAY_NO);
  c = process.cpuUsage(c0);
  return { signUs, keysUs: (c.user + c.system) / n };
}

/** Child: builds the payloads, connects the agents, publishes on 'go', reports when every receipt (gateway mode) or PUBACK (broker mode) is back. */
async function child(): Promise<void> {
  const send = (m: FromChild): void => void process.send!(m);
  const p = await new Promise<Prepare>((r) => process.once('message', (m) => r(m as Prepare)));
  const payloads: Uint8Array[][] = Array.from({ length: AGENTS }, () => []);
  let records = 0;
  let bytes = 0;
  if (p.mode === 'gateway') {
    batches(
      loadOrCreateKeys(p.caDir).ca,
      p.n,
      p.seed,
      p.reuse,
      (m, i) => {
        records += m.records;
        bytes += m.payload.length;
        payloads[Math.floor(i / p.reuse) % AGENTS].push(m.payload);
      },
      p.shape,
    );
  } else {
    for (let i = 0; i < p.n; i++) payloads[i % AGENTS].push(Buffer.alloc(p.bytes, 0xa5));
    bytes = p.n * p.bytes;
  }
  const agents = payloads.map((_, i) => client(p.url, devId(i), `bench-gi-agent-${p.mode}-${i}`));
  let replies = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  for (const a of agents) {
    a.onMessage((_t, m, ack) => {
      ack(true);
      if (m[3] === 0x02 && ++replies === p.n) done();
    });
  }
  await Promise.all(
    agents.map(async (a, i) => {
      await a.start();
      if (p.mode === 'gateway') await a.subscribe(topics.reply(devId(i)), 1);
    }),
  );
  send({ ready: true, records, bytes });
  await new Promise((r) => process.once('message', r));
  const c0 = process.cpuUsage();
  const published = Promise.all(agents.map((a, i) => Promise.all(payloads[i].map((m) => a.publish(topics.uplinkBatch(devId(i)), m, { qos: 1 })))));
  await (p.mode === 'gateway' ? all : published);
  const c = process.cpuUsage(c0);
  send({ done: true, cpuUs: c.user + c.system });
  await published;
  await Promise.all(agents.map((a) => a.stop()));
  process.exit(0);
}

/** Forks the load generator and prepares it; `go()` starts the publishing and resolves when the child reports done. */
export async function loadGenerator(p: Prepare): Promise<{ records: number; bytes: number; go(): Promise<number>; exited: Promise<void> }> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const c: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BEEPKIT_GI_CHILD: '1' },
  });
  const kill = (): void => void c.kill('SIGKILL'); // never outlive the bench
  process.once('exit', kill);
  const exited = new Promise<void>((r) =>
    c.once('exit', () => {
      process.removeListener('exit', kill);
      r();
    }),
  );
  const next = (): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      c.once('message', (m) => ('error' in (m as FromChild) ? reject(new Error((m as { error: string }).error)) : resolve(m as FromChild)));
      c.once('exit', (code) => reject(new Error(`load generator exited (${code})`)));
    });
  c.send(p);
  const ready = (await next()) as { records: number; bytes: number };
  return {
    records: ready.records,
    bytes: ready.bytes,
    exited,
    go: async () => {
      const d = next();
      c.send('go');
      return ((await d) as { cpuUs: number }).cpuUs;
    },
  };
}

interface Sample {
  codes: number;
  msgs: number;
  bytes: number;
  blocks: number;
  cpu: Cpu;
}
/** CPU µs per message: this process (gateway or no-op subscriber), the load generator, mosquitto. */
export interface Cpu {
  self: number;
  gen: number;
  broker: number;
}

/** User + system CPU µs of a process (Linux /proc; 0 elsewhere). */
export function procCpuUs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return 0;
  }
}

/** Wall seconds and CPU per message of the three processes while `go` runs (`go` resolves with the child's CPU µs). */
export async function timed(n: number, brokerPid: number | undefined, go: () => Promise<number>): Promise<{ s: number; cpu: Cpu }> {
  const c0 = process.cpuUsage();
  const b0 = procCpuUs(brokerPid);
  const t0 = process.hrtime.bigint();
  const genUs = await go();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (process.env.BENCH_GI_MARK) console.error(`MARK ${t0 / 1000n} ${process.hrtime.bigint() / 1000n}`);
  const c = process.cpuUsage(c0);
  return { s, cpu: { self: (c.user + c.system) / n, gen: genUs / n, broker: (procCpuUs(brokerPid) - b0) / n } };
}

/** The benches' tuned mosquitto in `dir`/mosq (not started): the gateway and the AGENTS agents with password PW, the device ACL, a free port. */
export async function benchMosquitto(binary: string, dir: string): Promise<MosquittoRunner> {
  const credentials: Record<string, string> = { gateway: hashPassword(PW, { iterations: 1000 }) };
  for (let i = 0; i < AGENTS; i++) credentials[devId(i)] = hashPassword(PW, { iterations: 1000 });
  return new MosquittoRunner({
    binary,
    dir: join(dir, 'mosq'),
    port: await freePort(),
    credentials,
    acl: { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS },
    queues: 'tuned',
  });
}

/** The bench's gateway on `url` (not started): K connections, no HTTP, silent, no rate limit, its clock at the end of the bench's day. */
export function benchGateway(url: string, dataDir: string, connections: number): Gateway {
  return new Gateway({
    config: resolveConfig({
      dataDir,
      // BENCH_GI_MAX_PENDING: the gateway's per-connection window (default: the gateway's own, broker.maxPending)
      broker: {
        url,
        password: PW,
        connections,
        clientId: 'bench-gw',
        ...(process.env.BENCH_GI_MAX_PENDING ? { maxPending: Number(process.env.BENCH_GI_MAX_PENDING) } : {}),
      },
      http: { port: 0 },
      log: { level: 'silent' },
      ingest: { rateBurst: 1e9, ratePerSecond: 1e9 },
    }),
    now: () => BENCH_NOW_MS,
  });
}

/**
 * Swaps a started bench gateway's Ingest for one with other options, for the A/Bs: another verify pool size, or
 * no CA signing key (`caSigner: undefined`: every certificate verified). The rest as the gateway builds it.
 */
export async function replaceIngest(gw: Gateway, o: Partial<IngestOptions>): Promise<void> {
  await gw.ingest.stop();
  gw.ingest = new Ingest({
    ledger: gw.ledger,
    caPublicKey: gw.keys.caPublicKey,
    caSigner: gw.keys.ca,
    now: () => BENCH_NOW_MS,
    rate: { burst: 1e9, perSecond: 1e9 },
    ...o,
  });
}

async function gatewaySample(
  mosq: MosquittoRunner,
  dataDir: string,
  n: number,
  seed: number,
  reuse: number,
  connections: number,
  shape: Shape,
): Promise<Sample> {
  const gw = benchGateway(mosq.url, dataDir, connections);
  await gw.start();
  const workers = process.env.BENCH_GI_VERIFY_WORKERS;
  if (workers !== undefined) await replaceIngest(gw, { verifyWorkers: Number(workers) }); // 0: inline
  try {
    const gen = await loadGenerator({ url: mosq.url, mode: 'gateway', n, seed, reuse, caDir: dataDir, bytes: 0, shape });
    const h0 = (await gw.ledger.sth('tracing'))?.blockHeight ?? -1;
    const t = await timed(n, mosq.pid, gen.go);
    const h1 = (await gw.ledger.sth('tracing'))?.blockHeight ?? -1;
    await gen.exited;
    return { codes: gen.records / t.s, msgs: n / t.s, bytes: gen.bytes / n, blocks: (h1 - h0) / t.s, cpu: t.cpu };
  } finally {
    await gw.ingest.stop();
    await gw.stop();
    // drop the gateway's persistent sessions: their $share subscriptions would queue the no-op run's messages
    await Promise.all(
      Array.from({ length: connections }, async (_, k) => {
        const c = client(mosq.url, 'gateway', connections > 1 ? `bench-gw-${k}` : 'bench-gw');
        await c.start();
        await c.stop();
      }),
    );
  }
}

/** The same child and connection layout, K no-op subscribers instead of the gateway. */
async function brokerSample(mosq: MosquittoRunner, n: number, bytes: number, connections: number): Promise<Sample> {
  const subs = Array.from({ length: connections }, (_, k) => client(mosq.url, 'gateway', `bench-gi-noop-${k}`));
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  for (const s of subs) {
    s.onMessage((_t, _p, ack) => {
      ack(true);
      if (++got === n) done();
    });
  }
  await Promise.all(
    subs.map(async (s) => {
      await s.start();
      await s.subscribe(connections > 1 ? '$share/noop/beepkit/v1/dev/+/up/+' : 'beepkit/v1/dev/+/up/+', 1);
    }),
  );
  try {
    const gen = await loadGenerator({ url: mosq.url, mode: 'broker', n, seed: 0, reuse: 1, caDir: '', bytes, shape: 'uniform' });
    const t = await timed(n, mosq.pid, async () => {
      const us = await gen.go();
      await all;
      return us;
    });
    await gen.exited;
    return { codes: 0, msgs: n / t.s, bytes, blocks: 0, cpu: t.cpu };
  } finally {
    await Promise.all(subs.map((s) => s.stop()));
  }
}

const GOAL_TRACECODES_PER_S = 100_000;
/** Gateway CPU µs a day-28 message may cost for GOAL_TRACECODES_PER_S with every core busy, after the agents' and mosquitto's. */
export const budgetUs = (c: Cpu, cores = os.availableParallelism()): number => (cores * 1e6) / (GOAL_TRACECODES_PER_S / 28) - c.gen - c.broker;

const cpuText = (c: Cpu): string => `CPU µs/msg self ${Math.round(c.self)} + agents ${Math.round(c.gen)} + mosquitto ${Math.round(c.broker)}`;

const bench: Bench = {
  name: 'gateway-ingest',
  description: `${AGENTS} agents (child process) -> tuned mosquitto (QoS 1) -> gateway -> durable ledger; signed batches of 1-28 TraceCodes, and of 28 (a day's)`,
  async run(ctx): Promise<BenchResult> {
    // no silent skip: without mosquitto this bench cannot do its work, and says which package to install (E_TOOL)
    const binary = requireTool('mosquitto', 'the gateway-ingest bench');
    const n = Number(process.env.BENCH_GI_BATCHES ?? (ctx.smoke ? 2000 : 8000));
    const nDay = Math.max(500, Math.round(n / 2));
    const connections = Number(process.env.BENCH_GW_CONNECTIONS ?? 4);
    const reuse = Number(process.env.BENCH_GI_REUSE ?? 4);
    const dir = mkdtempSync(join(os.tmpdir(), 'beepkit-bench-gi-'));
    const mosq = await benchMosquitto(binary, dir);
    const runs: Record<Shape, { gws: Sample[]; brs: Sample[]; loads: number[] }> = {
      uniform: { gws: [], brs: [], loads: [] },
      day: { gws: [], brs: [], loads: [] },
    };
    const ingestUs: number[] = [];
    const verifyUs: number[] = [];
    const floors: { signUs: number; keysUs: number; verifyUs: number }[] = [];
    try {
      await mosq.start();
      // alternate gateway and broker samples so both see the same machine load
      for (let rep = 0; rep < ctx.repeats; rep++) {
        ingestUs.push(await ingestCpu(join(dir, `ing${rep}`), Math.min(n, 4000), 177 + rep, reuse));
        for (const shape of ['uniform', 'day'] as const) {
          const r = runs[shape];
          verifyUs.push(verifyCpuUs());
          const g = await gatewaySample(mosq, join(dir, `gw${rep}-${shape}`), shape === 'day' ? nDay : n, 77 + rep, reuse, connections, shape);
          r.gws.push(g);
          const b = await brokerSample(mosq, shape === 'day' ? nDay : n, Math.round(g.bytes), connections);
          r.brs.push(b);
          r.loads.push(os.loadavg()[0]);
          ctx.log(
            `${shape.padEnd(7)} gateway ${Math.round(g.codes)} TraceCodes/s, ${Math.round(g.msgs)} msg/s, ${Math.round(g.blocks)} fdatasync/s, ${cpuText(g.cpu)}`,
          );
          ctx.log(`${shape.padEnd(7)} no-op   ${Math.round(b.msgs)} msg/s (${Math.round(g.bytes)} B), ${cpuText(b.cpu)}; load ${os.loadavg()[0].toFixed(1)}`);
        }
      }
      // after every sample, so that its calls leave the JIT's view of ingest's code as the gateway made it
      for (let rep = 0; rep < ctx.repeats; rep++) floors.push({ ...floorPartsUs(), verifyUs: verifyCpuUs() });
    } finally {
      await mosq.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const { gws, brs } = runs.uniform;
    const day = runs.day;
    const floorUs = floors.map((f) => f.verifyUs + f.signUs + f.keysUs); // the protocol's work for a day-28 batch
    const metrics: BenchResult['metrics'] = {
      tracecodes_per_s: summarise(
        gws.map((g) => g.codes),
        'TraceCodes/s',
      ),
      msgs_per_s: summarise(
        gws.map((g) => g.msgs),
        'msg/s',
      ),
      broker_noop_msgs_per_s: summarise(
        brs.map((b) => b.msgs),
        'msg/s',
      ),
      ratio_to_broker: summarise(
        gws.map((g, i) => g.msgs / brs[i].msgs),
        'ratio',
      ),
      entries_per_fdatasync: summarise(
        gws.map((g) => g.msgs / g.blocks),
        'batches/block',
      ),
      ingest_cpu_per_batch: summarise(ingestUs, 'µs'),
      gateway_cpu_per_msg: summarise(
        gws.map((g) => g.cpu.self),
        'µs',
      ),
      gateway_run_agents_cpu_per_msg: summarise(
        gws.map((g) => g.cpu.gen),
        'µs',
      ),
      gateway_run_mosquitto_cpu_per_msg: summarise(
        gws.map((g) => g.cpu.broker),
        'µs',
      ),
      noop_subscriber_cpu_per_msg: summarise(
        brs.map((b) => b.cpu.self),
        'µs',
      ),
      noop_run_mosquitto_cpu_per_msg: summarise(
        brs.map((b) => b.cpu.broker),
        'µs',
      ),
      day28_tracecodes_per_s: summarise(
        day.gws.map((g) => g.codes),
        'TraceCodes/s',
      ),
      day28_msgs_per_s: summarise(
        day.gws.map((g) => g.msgs),
        'msg/s',
      ),
      day28_broker_noop_msgs_per_s: summarise(
        day.brs.map((b) => b.msgs),
        'msg/s',
      ),
      day28_ratio_to_broker: summarise(
        day.gws.map((g, i) => g.msgs / day.brs[i].msgs),
        'ratio',
      ),
      day28_gateway_cpu_per_msg: summarise(
        day.gws.map((g) => g.cpu.self),
        'µs',
      ),
      day28_agents_cpu_per_msg: summarise(
        day.gws.map((g) => g.cpu.gen),
        'µs',
      ),
      day28_mosquitto_cpu_per_msg: summarise(
        day.gws.map((g) => g.cpu.broker),
        'µs',
      ),
      verify_cpu_us: summarise(verifyUs, 'µs'),
      cpu_per_msg_over_verify: summarise(
        gws.map((g, i) => g.cpu.self / verifyUs[2 * i]),
        'x',
      ),
      day28_cpu_per_msg_over_verify: summarise(
        day.gws.map((g, i) => g.cpu.self / verifyUs[2 * i + 1]),
        'x',
      ),
      cert_resign_cpu_us: summarise(
        floors.map((f) => f.signUs),
        'µs',
      ),
      batch_keys_cpu_us: summarise(
        floors.map((f) => f.keysUs),
        'µs',
      ),
      day28_floor_over_verify: summarise(
        floors.map((f, i) => floorUs[i] / f.verifyUs),
        'x',
      ),
      // the throughput goal in CPU: what a day-28 message may cost the gateway for 100 000 TraceCodes/s on this box's
      // cores at 100 % busy, after the same sample's agents and mosquitto; beside the protocol floor in µs
      day28_gateway_cpu_budget_us: summarise(
        day.gws.map((g) => budgetUs(g.cpu)),
        'µs',
      ),
      day28_floor_us: summarise(floorUs, 'µs'),
      load_average_1min: summarise([...runs.uniform.loads, ...day.loads], 'load'),
    };
    const notes = [
      `uniform: ${n} batches per sample (1-28 records, mean payload ${Math.round(gws[0].bytes)} B); day28: ${nDay} batches of 28 records (${Math.round(day.gws[0].bytes)} B); ${reuse} batches per pseudonym-day, ${AGENTS} agent connections in a child process, ${connections} gateway connections ($share) in this process, fdatasync group commit, ${process.env.BENCH_GI_VERIFY_WORKERS ?? 'default (cores - 1)'} verify workers`,
      'what agents send: the publisher seals at most one TraceCode per 30-min interval (a stay extends, no new record: BeepTrace\'s ~28 a day); the uplink sends one signed batch per pseudonym-day of what is pending (outbox batchMaxItems 64). Upload policy "immediate" sends each TraceCode as it seals (batches of 1-2); "charging-wifi" (max delay 6 h) sends up to a day\'s worth at once: day28 is that case',
      'cpu_per_msg_over_verify = gateway process CPU per message (main thread + verify workers) / verify_cpu_us (one node:crypto Ed25519 verify of 2772 B, this process, measured before each sample); a day batch carries a fresh certificate (one pseudonym-day: 48 intervals hold one batch of 28), so it costs the batch verify and the certificate check (a re-sign with the CA key, cert_resign_cpu_us), plus the 28 record hashes and 28 claim keys (batch_keys_cpu_us); day28_floor_over_verify = (verify + re-sign + keys) / verify, measured after the samples: the protocol floor before any storage, MQTT or GC',
      `day28_gateway_cpu_budget_us = ${os.availableParallelism()} cores x 1 s / (${GOAL_TRACECODES_PER_S} / 28 messages) - the same sample's agents and mosquitto CPU per message: all the gateway may spend for the TraceCodes/s goal with every core busy on this box; day28_floor_us = verify + re-sign + keys (the floor above, in µs), to which MQTT adds at least noop_subscriber_cpu_per_msg`,
      `ratio = gateway msg/s / no-op subscriber msg/s at the same payload size, sample by sample (alternating); load average (1 min) ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} at the end`,
    ];
    return {
      metrics,
      goals: {
        tracecodes_per_s: goal(metrics.tracecodes_per_s.median, '>=', GOAL_TRACECODES_PER_S),
        day28_tracecodes_per_s: goal(metrics.day28_tracecodes_per_s.median, '>=', GOAL_TRACECODES_PER_S),
        // issue #18: the gateway's CPU per day batch within 1.5x one Ed25519 verify on the same core, same run (replaces ratio_to_broker >= 0.8)
        day28_cpu_per_msg_over_verify: goal(metrics.day28_cpu_per_msg_over_verify.median, '<=', 1.5),
      },
      notes,
    };
  },
};

export default bench;

if (process.env.BEEPKIT_GI_CHILD === '1') {
  process.once('disconnect', () => process.exit(1)); // the bench is gone
  child().catch((e: unknown) => {
    process.send?.({ error: String((e as Error)?.stack ?? e) });
    process.exit(1);
  });
}
