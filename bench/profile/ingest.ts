// Profiling driver (not a bench; bench/run.ts lists only bench/*.ts): Ingest.handle on day-28 batches, 64 in flight, no MQTT.
// Usage: [PROF=out.cpuprofile] [HEAPPROF=out.heapprofile: allocations sampled every 4 KiB, collected objects included] [VW=<verify workers, default 1>] [ISSUED=1] [CA_SIGNER=0: verify certificates as a gateway without the CA key would] [REUSE=<batches per certificate, default 1>] [INFLIGHT=<default 64>] [STREAM=1: one new batch per event-loop turn, at most INFLIGHT outstanding (as MQTT delivers them), not groups of INFLIGHT] node --import tsx bench/profile/ingest.ts [batches]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { EmbeddedLedger } from '@beepkit/gateway/ledger';
import { Ingest } from '@beepkit/gateway/ingest';
import { loadOrCreateKeys } from '@beepkit/gateway/ca';
import { encodeMessage } from '@beepkit/protocol/wire';
import { Pseudonym, prng } from '@beepkit/gateway/testing';
import { hostNow } from '@beepkit/protocol/clock';
import { verifyCpuUs } from '../gateway-ingest.ts';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const DAY = 86_400;
const DAY_NO = 20_602;
const n = Number(process.argv[2] ?? 4000);
const dir = mkdtempSync(join(os.tmpdir(), 'prof-ingest-'));
const keys = loadOrCreateKeys(dir);
const rand = prng(5);
const payloads: Uint8Array[] = [];
const certs: Pseudonym['cert'][] = [];
let ps: Pseudonym | undefined;
for (let i = 0; i < n; i++) {
  if (i % Number(process.env.REUSE ?? 1) === 0) {
    ps = new Pseudonym(rand, DAY_NO).certify(keys.ca);
    certs.push(ps.cert);
  }
  payloads.push(encodeMessage({ type: 'upload-batch', correlationId: new Uint8Array(8), batch: ps!.batch(Array.from({ length: 28 }, (_, j) => j)) }));
}
const verifyUs = verifyCpuUs();
const ledger = new EmbeddedLedger({ now: hostNow, dir: join(dir, 'ledger'), signer: keys.gateway });
await ledger.open();
const ingest = new Ingest({
  ledger,
  caPublicKey: keys.caPublicKey,
  ...(process.env.CA_SIGNER === '0' ? {} : { caSigner: keys.ca }),
  now: () => (DAY_NO * DAY + DAY - 60) * 1000,
  rate: { burst: 1e9, perSecond: 1e9 },
  verifyWorkers: Number(process.env.VW ?? 1),
});
if (process.env.ISSUED === '1') for (const c of certs) ingest.rememberIssued(c);
const session = new Session();
if (process.env.PROF) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
if (process.env.HEAPPROF) {
  if (!process.env.PROF) session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const c0 = process.cpuUsage();
const t0 = performance.now();
const inflight = Number(process.env.INFLIGHT ?? 64);
const codes = new Map<string, number>(); // every batch's answer: a fast run that refused them measured nothing
const handle = (p: Uint8Array) => ingest.handle(p).then((r) => void codes.set(r.code, (codes.get(r.code) ?? 0) + 1));
if (process.env.STREAM === '1') {
  let out = 0;
  let wake: (() => void) | undefined;
  const all: Promise<unknown>[] = [];
  for (const p of payloads) {
    while (out >= inflight) await new Promise<void>((r) => (wake = r));
    out++;
    all.push(
      handle(p).then(() => {
        out--;
        wake?.();
      }),
    );
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(all);
} else for (let i = 0; i < n; i += inflight) await Promise.all(payloads.slice(i, i + inflight).map(handle));
const c = process.cpuUsage(c0);
if (process.env.PROF) writeFileSync(process.env.PROF, JSON.stringify((await session.post('Profiler.stop')).profile));
if (process.env.HEAPPROF) writeFileSync(process.env.HEAPPROF, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
const per = (c.user + c.system) / n;
console.log(
  `issued=${process.env.ISSUED ?? 0} stream=${process.env.STREAM ?? 0} vw=${process.env.VW ?? 1} inflight=${inflight} verify ${verifyUs.toFixed(1)} µs; Ingest.handle ${per.toFixed(1)} µs/batch = ${(per / verifyUs).toFixed(2)} x verify; wall ${(((performance.now() - t0) / n) * 1000).toFixed(0)} µs/batch; load ${os.loadavg()[0].toFixed(1)}; answers ${JSON.stringify(Object.fromEntries(codes))}`,
);
await ingest.stop();
await ledger.close();
rmSync(dir, { recursive: true, force: true });
