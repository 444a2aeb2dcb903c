// Profiling driver (not a bench; bench/run.ts lists only bench/*.ts): the whole gateway path of the gateway-ingest
// bench, once: agents (child process) -> tuned mosquitto -> Gateway (this process, 4 $share connections, embedded
// ledger) on day-28 batches, and a profile of this process over the measured window only.
// Usage: [PROF=out.cpuprofile] [HEAPPROF=out.heapprofile: allocations sampled every 4 KiB] [REUSE=<batches per certificate, default 4>] [SHAPE=day|uniform] [BENCH_GW_CONNECTIONS=4]
//        [ROUNDS=<default 3: the first warms up, the profiles are of the last>] node --import tsx bench/profile/gateway.ts [batches, default 4000]
// Prints the gateway's CPU per message against one Ed25519 verify measured here; `node --import tsx
// bench/profile/summary.ts out.cpuprofile` groups the profile's self time.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE_PATTERNS, hashPassword, MosquittoRunner } from '@beepkit/gateway/broker';
import { requireTool } from '../../scripts/tools.ts';
import { AGENTS, PW, benchGateway, devId, freePort, loadGenerator, timed, type Shape } from '../gateway-ingest.ts';

const n = Number(process.argv[2] ?? 4000);
const reuse = Number(process.env.REUSE ?? 4);
const shape = (process.env.SHAPE ?? 'day') as Shape;
const connections = Number(process.env.BENCH_GW_CONNECTIONS ?? 4);
const dir = mkdtempSync(join(os.tmpdir(), 'prof-gw-'));
const creds: Record<string, string> = { gateway: hashPassword(PW, { iterations: 1000 }) };
for (let i = 0; i < AGENTS; i++) creds[devId(i)] = hashPassword(PW, { iterations: 1000 });
const mosq = new MosquittoRunner({
  binary: requireTool('mosquitto', 'the gateway profile'),
  dir: join(dir, 'mosq'),
  port: await freePort(),
  credentials: creds,
  acl: { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS },
  queues: 'tuned',
});
await mosq.start();
const dataDir = join(dir, 'gw');
const gw = benchGateway(mosq.url, dataDir, connections);
await gw.start();
try {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const msg = Buffer.alloc(2700, 7);
  const sig = sign(null, msg, privateKey);
  const session = new Session();
  const rounds = Number(process.env.ROUNDS ?? 3); // the first one warms the JIT and the ledger up; the profile is of the last
  for (let round = 1; round <= rounds; round++) {
    const gen = await loadGenerator({ url: mosq.url, mode: 'gateway', n, seed: 11 + round, reuse, caDir: dataDir, bytes: 0, shape });
    const v0 = process.cpuUsage();
    for (let i = 0; i < 2000; i++) verify(null, msg, publicKey, sig);
    const v = process.cpuUsage(v0);
    const verifyUs = (v.user + v.system) / 2000;
    const last = round === rounds;
    if (last && process.env.PROF) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    if (last && process.env.HEAPPROF) {
      if (!process.env.PROF) session.connect();
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    const t = await timed(n, mosq.pid, gen.go);
    if (last && process.env.PROF) writeFileSync(process.env.PROF, JSON.stringify((await session.post('Profiler.stop')).profile));
    if (last && process.env.HEAPPROF) writeFileSync(process.env.HEAPPROF, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
    await gen.exited;
    console.log(
      `round ${round}/${rounds} shape=${shape} reuse=${reuse} n=${n}: gateway ${t.cpu.self.toFixed(1)} µs/msg = ${(t.cpu.self / verifyUs).toFixed(2)} x verify (${verifyUs.toFixed(1)} µs); ` +
        `agents ${t.cpu.gen.toFixed(1)}, mosquitto ${t.cpu.broker.toFixed(1)} µs/msg; ${Math.round(n / t.s)} msg/s; load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
} finally {
  await gw.ingest.stop();
  await gw.stop();
  await mosq.stop();
  rmSync(dir, { recursive: true, force: true });
}
