/**
 * Several gateways (gateway/README.md "Several gateways", issue #17 item 5): ingest with ONE and with TWO
 * `beepkit gateway run` processes taking the same agents' batches from one tuned mosquitto through the share
 * group. Same load generator as gateway-ingest (its child process, 4 agent connections, signed uniform 1–28
 * batches, 4 per pseudonym-day), same total gateway connections (1 process × 4, or 2 processes × 2), each
 * process its own data dir and ledger shard (shard 0 main, shard 1 ingest, the CA key copied), fdatasync group
 * commit. Samples alternate 1 and 2 processes, so both see the same machine load; the ratio is sample by sample.
 * Every process is a child here (the 1-process row too), so the comparison is process against process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MosquittoRunner } from '@beepkit/gateway/broker';
import { loadOrCreateKeys } from '@beepkit/gateway/ca';
import { gatewayProcessEnv } from '@beepkit/gateway/process-env';
import { hostNow } from '@beepkit/protocol/clock';
import { requireTool } from '../scripts/tools.ts';
import { AGENTS, DAY_NO, PW, benchMosquitto, client, loadGenerator, procCpuUs } from './gateway-ingest.ts';
import { goal, summarise, type Bench, type BenchResult } from './lib.ts';

const DAY = 86_400;
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'beepkit.js');
const CONNECTIONS = 4;

function startGateway(cfg: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'gateway', 'run', '-c', cfg], { env: gatewayProcessEnv(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (): void => void child.kill('SIGKILL'); // never outlive the bench
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: string): void => {
      out += d;
      if (!out.includes('"ready":true')) return;
      child.stdout!.removeListener('data', onData);
      child.stdout!.resume();
      resolve(child);
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-4000)));
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before ready: ${out.slice(0, 2000)}`)));
  });
}

interface Sample {
  codes: number;
  msgs: number;
  gatewayCpu: number;
  mosquittoCpu: number;
}

async function sample(mosq: MosquittoRunner, dir: string, procs: number, n: number, seed: number): Promise<Sample> {
  const dirs = Array.from({ length: procs }, (_, s) => join(dir, `shard${s}`));
  loadOrCreateKeys(dirs[0]);
  for (const d of dirs.slice(1)) {
    mkdirSync(join(d, 'keys'), { recursive: true, mode: 0o700 });
    for (const f of ['ca.key', 'solver.key']) {
      copyFileSync(join(dirs[0], 'keys', f), join(d, 'keys', f));
      chmodSync(join(d, 'keys', f), 0o600);
    }
  }
  const clientId = `bench-sh-${procs}-${seed}`;
  const per = CONNECTIONS / procs;
  // the batches are of day DAY_NO: the gateways' scenario clock stands 60 s before its end
  const clock = `clock: { epochMs: ${(DAY_NO * DAY + DAY - 60) * 1000}, wallMs: ${hostNow()}, speed: 1 }`;
  const children: ChildProcess[] = [];
  try {
    for (let s = 0; s < procs; s++) {
      const cfg = join(dir, `gateway${s}.yaml`);
      writeFileSync(
        cfg,
        [
          `dataDir: ${dirs[s]}`,
          'broker:',
          `  url: ${mosq.url}`,
          `  password: ${PW}`,
          `  clientId: ${clientId}`,
          `  connections: ${per}`,
          'http: { port: 0 }',
          'log: { level: warn }',
          'ingest: { rateBurst: 1000000000, ratePerSecond: 1000000000 }',
          clock,
          `shard: { id: ${s}, role: ${s === 0 ? 'main' : 'ingest'} }`,
          '',
        ].join('\n'),
      );
      children.push(await startGateway(cfg));
    }
    const gen = await loadGenerator({ url: mosq.url, mode: 'gateway', n, seed, reuse: 4, caDir: dirs[0], bytes: 0, shape: 'uniform' });
    const g0 = children.reduce((a, c) => a + procCpuUs(c.pid), 0);
    const b0 = procCpuUs(mosq.pid);
    const t0 = process.hrtime.bigint();
    await gen.go();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const g1 = children.reduce((a, c) => a + procCpuUs(c.pid), 0);
    await gen.exited;
    return { codes: gen.records / s, msgs: n / s, gatewayCpu: (g1 - g0) / n, mosquittoCpu: (procCpuUs(mosq.pid) - b0) / n };
  } finally {
    await Promise.all(
      children.map((c) => {
        if (c.exitCode !== null) return undefined;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        return exited;
      }),
    );
    // drop the gateways' persistent sessions: their $share subscriptions would queue the next sample's messages
    for (let s = 0; s < procs; s++) {
      for (let k = 0; k < per; k++) {
        const c = client(mosq.url, 'gateway', `${clientId}-s${s}-${k}`);
        await c.start();
        await c.stop();
      }
    }
  }
}

const bench: Bench = {
  name: 'gateway-shards',
  description: `${AGENTS} agents (child process) -> tuned mosquitto -> 1 or 2 beepkit gateway run processes ($share, ${CONNECTIONS} connections in all), each its own ledger shard`,
  async run(ctx): Promise<BenchResult> {
    const binary = requireTool('mosquitto', 'the gateway-shards bench');
    const n = Number(process.env.BENCH_GS_BATCHES ?? (ctx.smoke ? 600 : 6000));
    const dir = mkdtempSync(join(os.tmpdir(), 'beepkit-bench-gs-'));
    const mosq = await benchMosquitto(binary, dir);
    const one: Sample[] = [];
    const two: Sample[] = [];
    const loads: number[] = [];
    try {
      await mosq.start();
      for (let rep = 0; rep < ctx.repeats; rep++) {
        for (const procs of [1, 2]) {
          const r = await sample(mosq, join(dir, `r${rep}-p${procs}`), procs, n, 91 + rep);
          (procs === 1 ? one : two).push(r);
          loads.push(os.loadavg()[0]);
          ctx.log(
            `${procs} gateway process(es): ${Math.round(r.codes)} TraceCodes/s, ${Math.round(r.msgs)} msg/s, CPU µs/msg gateways ${Math.round(r.gatewayCpu)} + mosquitto ${Math.round(r.mosquittoCpu)}; load ${os.loadavg()[0].toFixed(1)}`,
          );
        }
      }
    } finally {
      await mosq.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const metrics: BenchResult['metrics'] = {
      one_gateway_tracecodes_per_s: summarise(
        one.map((x) => x.codes),
        'TraceCodes/s',
      ),
      two_gateways_tracecodes_per_s: summarise(
        two.map((x) => x.codes),
        'TraceCodes/s',
      ),
      two_over_one: summarise(
        two.map((x, i) => x.msgs / one[i].msgs),
        'ratio',
      ),
      one_gateway_cpu_per_msg: summarise(
        one.map((x) => x.gatewayCpu),
        'µs',
      ),
      two_gateways_cpu_per_msg: summarise(
        two.map((x) => x.gatewayCpu),
        'µs',
      ),
      load_average_1min: summarise(loads, 'load'),
    };
    return {
      metrics,
      goals: { two_gateways_tracecodes_per_s: goal(metrics.two_gateways_tracecodes_per_s.median, '>=', 100_000) },
      notes: [
        `${n} uniform 1-28 batches per sample, 4 per pseudonym-day; ${os.cpus().length} cores shared by mosquitto, the agents' process and the gateway processes, so a second process adds parallelism only where a core is idle`,
        'CPU µs/msg of the gateways = the gateway processes together (main threads + verify workers) per message',
      ],
    };
  },
};

export default bench;
