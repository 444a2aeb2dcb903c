// Profiling driver (not a bench; bench/run.ts lists only bench/*.ts): the whole gateway path of the gateway-ingest
// bench, once: agents (child process) -> tuned mosquitto -> Gateway (this process, 4 $share connections, embedded
// ledger) on day-28 batches, and a profile of this process over the measured window only.
// Usage: [CA_SIGNER=0: no CA signing key in ingest] [PROF=out.cpuprofile] [HEAPPROF=out.heapprofile: allocations sampled every 4 KiB] [SNAP=out.heapsnapshot: a heap snapshot SNAP_MS (default 800) ms into the last round, messages in flight] [REUSE=<batches per certificate, default 4>] [SHAPE=day|uniform] [BENCH_GW_CONNECTIONS=4]
//        [ROUNDS=<default 3: the first warms up, the profiles are of the last>] node --import tsx bench/profile/gateway.ts [batches, default 4000]
// Prints the gateway's CPU per message against one Ed25519 verify measured here; `node --import tsx
// bench/profile/summary.ts out.cpuprofile` groups the profile's self time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import v8 from 'node:v8';
import os from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../../scripts/tools.ts';
import { formatThreads, threadDelta, threadTimes } from './threads.ts';
import { benchGateway, benchMosquitto, loadGenerator, replaceIngest, timed, verifyCpuUs, type Shape } from '../gateway-ingest.ts';

const n = Number(process.argv[2] ?? 4000);
const reuse = Number(process.env.REUSE ?? 4);
const shape = (process.env.SHAPE ?? 'day') as Shape;
const connections = Number(process.env.BENCH_GW_CONNECTIONS ?? 4);
const dir = mkdtempSync(join(os.tmpdir(), 'prof-gw-'));
const mosq = await benchMosquitto(requireTool('mosquitto', 'the gateway profile'), dir);
await mosq.start();
const dataDir = join(dir, 'gw');
const gw = benchGateway(mosq.url, dataDir, connections);
await gw.start();
// A/B: certificates verified as by a gateway without the CA's signing key (an Ed25519 verify each)
if (process.env.CA_SIGNER === '0') await replaceIngest(gw, { caSigner: undefined });
try {
  const session = new Session();
  const rounds = Number(process.env.ROUNDS ?? 3); // the first one warms the JIT and the ledger up; the profile is of the last
  for (let round = 1; round <= rounds; round++) {
    const gen = await loadGenerator({ url: mosq.url, mode: 'gateway', n, seed: 11 + round, reuse, caDir: dataDir, bytes: 0, shape });
    const verifyUs = verifyCpuUs();
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
    const gcs = { minor: [0, 0], major: [0, 0], other: [0, 0] };
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        const k = kind === perf.NODE_PERFORMANCE_GC_MINOR ? 'minor' : kind === perf.NODE_PERFORMANCE_GC_MAJOR ? 'major' : 'other';
        gcs[k][0]++;
        gcs[k][1] += e.duration;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    const th0 = threadTimes();
    const snap =
      last && process.env.SNAP
        ? setTimeout(() => console.log(`  heap snapshot ${v8.writeHeapSnapshot(process.env.SNAP)}`), Number(process.env.SNAP_MS ?? 800))
        : undefined;
    const t = await timed(n, mosq.pid, gen.go);
    clearTimeout(snap);
    const threads = threadDelta(th0, threadTimes());
    obs.disconnect();
    const heap = v8.getHeapStatistics();
    if (last && process.env.PROF) writeFileSync(process.env.PROF, JSON.stringify((await session.post('Profiler.stop')).profile));
    if (last && process.env.HEAPPROF) writeFileSync(process.env.HEAPPROF, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
    await gen.exited;
    console.log(
      `round ${round}/${rounds} shape=${shape} reuse=${reuse} n=${n}: gateway ${t.cpu.self.toFixed(1)} µs/msg = ${(t.cpu.self / verifyUs).toFixed(2)} x verify (${verifyUs.toFixed(1)} µs); ` +
        `agents ${t.cpu.gen.toFixed(1)}, mosquitto ${t.cpu.broker.toFixed(1)} µs/msg; ${Math.round(n / t.s)} msg/s; load ${os.loadavg()[0].toFixed(1)}`,
    );
    console.log(`  gateway threads: ${formatThreads(threads, n)}`);
    console.log(
      `  gc pauses (main thread): ${Object.entries(gcs)
        .map(([k, [c, ms]]) => `${k} ${c}× ${ms.toFixed(0)} ms`)
        .join(', ')}; heap used ${(heap.used_heap_size / 1e6).toFixed(1)} MB of ${(heap.total_heap_size / 1e6).toFixed(1)} MB (${v8
        .getHeapSpaceStatistics()
        .filter((x) => x.space_used_size > 1e6)
        .map((x) => `${x.space_name} ${(x.space_used_size / 1e6).toFixed(1)}`)
        .join(', ')})`,
    );
    if (process.env.TIDS) {
      const a = threadTimes();
      for (const [tid, e] of a)
        console.log(
          `   ${tid} ${e.name} ${((e.us - (th0.get(tid)?.us ?? 0)) / n).toFixed(1)} µs/msg, sys ${((e.sys - (th0.get(tid)?.sys ?? 0)) / n).toFixed(1)}`,
        );
    }
  }
} finally {
  await gw.ingest.stop();
  await gw.stop();
  await mosq.stop();
  rmSync(dir, { recursive: true, force: true });
}
