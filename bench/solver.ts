/**
 * Solver: verify + decrypt + index throughput of real sealed batches
 * (pseudonym-days of 28 TraceCodes), decrypt + index alone (from ledger batch
 * bytes, and from decoded batches), the previous implementation
 * (`indexBatchBaseline`: per-record openTraceCode objects, node:crypto
 * decipher, SPKI-DER X25519 import) in the same run, and the latency of
 * one diagnosis (14 endorsed pseudonym-days × 28 records) against indexes of
 * growing size built directly from index entries (building 10 M sealed records
 * would take longer than the measurement): the growth curve, 1 M and 10 M.
 */
import { Ed25519Signer, taggedHash, x25519PublicKey } from '@beepkit/protocol/crypto';
import { issueCertificate, keyId } from '@beepkit/protocol/cert';
import { dayKeysFromChain } from '@beepkit/protocol/keys';
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { chachaOpen } from '@beepkit/protocol/crypto';
import { TraceCodeSealer, decodeBatch, signBatch, traceCodeKey, type Batch } from '@beepkit/protocol/tracecode';
import { decodeGeodata, generalise } from '@beepkit/protocol/geodata';
import { toHex } from '@beepkit/protocol/bytes';
import { isBeepkitError } from '@beepkit/protocol/errors';
import { DecryptPool, GeoIndex, Solver, exposures, matchRules } from '@beepkit/gateway/solver';
import os from 'node:os';
import { goal, summarise, type Bench, type Goal, type Metric } from './lib.ts';

const DAY = 20000;
const T0 = DAY * 86400;
const tag = (s: string) => taggedHash('beepkit/bench/solver', new TextEncoder().encode(s));
const caSeed = tag('ca');
const caPub = new Ed25519Signer(caSeed).publicKey;
const solverKey = tag('solver');
const solverPub = x25519PublicKey(solverKey);
const LAT0 = 55.9;
const LON0 = -3.3;
const M = 1 / 111_195;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function sealedBatches(pseudonymDays: number): Uint8Array[] {
  const r = rng(1);
  const out: Uint8Array[] = [];
  for (let p = 0; p < pseudonymDays; p++) {
    const k = dayKeysFromChain(tag('m' + p), DAY);
    const cert = issueCertificate(caSeed, {
      role: 'device',
      serial: p,
      day: DAY,
      notBefore: T0,
      notAfter: T0 + 86400,
      subject: k.pseudonym,
      solverKeyId: keyId(solverPub),
      region: 'b',
    }).bytes;
    const sealer = new TraceCodeSealer({ prefix: k.pseudonym, ephemeralPriv: k.ephemeralPriv, solverPub });
    const records = Array.from({ length: 28 }, (_, i) => {
      const start = T0 + i * 1800;
      return sealer.seal(i, generalise({ start, end: start + 1800, lat: LAT0 + r() * 0.1, lon: LON0 + r() * 0.2, accuracy: 5, sources: 1 }, 'exact'));
    });
    out.push(signBatch({ day: DAY, ephemeralPub: sealer.ephemeralPub, certificate: cert, records }, k.signingSeed));
  }
  return out;
}

/** The previous decrypt+index path, kept for the same-run baseline (results are identical; the tests compare). */
class Baseline {
  readonly index: GeoIndex;
  records = 0;
  private readonly priv: KeyObject;
  private readonly pub: Uint8Array;
  private readonly keys = new Map<string, Uint8Array>();
  constructor(initialRecords: number) {
    this.index = new GeoIndex({ initialRecords });
    this.priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), solverKey]), format: 'der', type: 'pkcs8' });
    this.pub = solverPub;
  }
  private key(e: Uint8Array): Uint8Array {
    const id = toHex(e);
    let k = this.keys.get(id);
    if (!k) {
      const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), e]), format: 'der', type: 'spki' });
      this.keys.set(id, (k = traceCodeKey(new Uint8Array(diffieHellman({ privateKey: this.priv, publicKey: pub })), e, this.pub)));
    }
    return k;
  }
  indexBatchBaseline(batch: Batch, cutoff: number): void {
    const pid = this.index.internPseudonym(batch.traceCodes[0].prefix, batch.day);
    for (const tc of batch.traceCodes) {
      let g;
      try {
        const nonce = new Uint8Array(12);
        nonce[0] = tc.interval >>> 8;
        nonce[1] = tc.interval & 0xff;
        nonce.set(tc.salt, 4);
        const aad = new Uint8Array(67);
        aad[0] = tc.version;
        aad.set(tc.prefix, 1);
        aad.set(batch.ephemeralPub, 33);
        aad[65] = tc.interval >>> 8;
        aad[66] = tc.interval & 0xff;
        g = decodeGeodata(chachaOpen(this.key(batch.ephemeralPub), nonce, tc.ciphertext, aad));
      } catch (e) {
        if (!isBeepkitError(e)) throw e;
        continue;
      }
      if (g.end < cutoff) continue;
      this.index.add({
        pid,
        start: g.start,
        end: g.end,
        latE7: Math.round(g.lat * 1e7),
        lonE7: Math.round(g.lon * 1e7),
        level: g.level,
        venue: g.venue ? this.index.internVenue(g.venue) : -1,
      });
      this.records++;
    }
  }
}

/** Runs `fn` (returns records processed): [records per wall second, records per CPU second of this process, all threads]. */
async function rate(fn: () => number | Promise<number>): Promise<[number, number]> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const n = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [n / wall, n / ((c.user + c.system) / 1e6)];
}

/** Adds synthetic pseudonym-days (28 half-hour records each, a random walk in a 20 km × 14 km city over 14 days). */
function grow(index: GeoIndex, r: () => number, from: number, to: number): void {
  for (let p = from; p < to; p += 28) {
    const day = DAY - Math.floor(r() * 14);
    const prefix = new Uint8Array(32);
    new DataView(prefix.buffer).setUint32(0, p);
    const pid = index.internPseudonym(prefix, day);
    let lat = LAT0 + r() * 0.125;
    let lon = LON0 + r() * 0.32;
    for (let i = 0; i < 28 && p + i < to; i++) {
      const start = day * 86400 + 7 * 3600 + i * 1800;
      lat += (r() - 0.5) * 200 * M;
      lon += (r() - 0.5) * 350 * M;
      index.add({ pid, start, end: start + 1800, latE7: Math.round(lat * 1e7), lonE7: Math.round(lon * 1e7), level: 0, venue: -1 });
    }
  }
}

/** 14 endorsed pseudonym-days × 28 records; each copies a trajectory point of the index so there are matches. */
function endorse(index: GeoIndex, r: () => number): number[] {
  const pids: number[] = [];
  for (let d = 0; d < 14; d++) {
    const prefix = new Uint8Array(32).fill(0xee);
    prefix[0] = d;
    const pid = index.internPseudonym(prefix, DAY - d);
    for (let i = 0; i < 28; i++) {
      const j = Math.floor(r() * index.n);
      index.add({ pid, start: index.start[j], end: index.end[j], latE7: index.lat[j] + 300, lonE7: index.lon[j], level: 0, venue: -1 });
    }
    pids.push(pid);
  }
  return pids;
}

function latency(index: GeoIndex, pids: number[], repeats: number): { ms: number[]; exposed: number } {
  const rules = matchRules();
  const ms: number[] = [];
  let exposed = 0;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    exposed = exposures(index, pids, rules).size;
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms, exposed };
}

const bench: Bench = {
  name: 'solver',
  description: 'solver: verify+decrypt+index records/s, decrypt+index records/s, diagnosis latency vs index size (1 M, 10 M)',
  async run(ctx) {
    const metrics: Record<string, Metric> = {};
    const goals: Record<string, Goal> = {};
    const notes: string[] = [];
    const pd = ctx.smoke ? 100 : 2000;
    ctx.log(`sealing ${pd} pseudonym-days x 28 records…`);
    const batches = sealedBatches(pd);
    const decoded = batches.map(decodeBatch);
    const series: Record<string, number[]> = {};
    const put = (name: string, [wall, cpu]: [number, number]) => {
      (series[name] ??= []).push(wall);
      (series[name + 'Cpu'] ??= []).push(cpu);
    };
    const nowMs = (T0 + 3600) * 1000;
    const solver = (verifyBatches: boolean) =>
      new Solver({
        source: { blocks: async () => [] },
        sink: { publish: async () => undefined },
        solverKey,
        caPub,
        now: () => nowMs,
        index: { initialRecords: pd * 28 },
        verifyBatches,
      });
    const pool = new DecryptPool({ solverKey, caPub, workers: 2 });
    pool.start();
    {
      // warm-up (JIT) of every path on a slice, not measured
      await solver(true).ingestParallel(pool, batches.slice(0, 100), nowMs);
      const few = Math.min(50, pd);
      const b = new Baseline(few * 28);
      for (const d of decoded.slice(0, few)) b.indexBatchBaseline(d, T0 - 14 * 86400);
      for (const v of [false, true]) {
        const s = solver(v);
        for (const x of batches.slice(0, few)) s.ingestBatch(x, nowMs);
        solver(true).indexBatch(decoded[0]);
      }
    }
    for (let rep = 0; rep < ctx.repeats; rep++) {
      put(
        'baselineDecryptIndexPerSec',
        await rate(() => {
          const b = new Baseline(pd * 28);
          for (const d of decoded) b.indexBatchBaseline(d, T0 - 14 * 86400);
          return b.records;
        }),
      );
      put(
        'decryptIndexPerSec',
        await rate(() => {
          const s = solver(false);
          for (const b of batches) s.ingestBatch(b, nowMs);
          return s.stats.records;
        }),
      );
      put(
        'decryptIndexDecodedPerSec',
        await rate(() => {
          const s = solver(true);
          for (const d of decoded) s.indexBatch(d);
          return s.stats.records;
        }),
      );
      put(
        'verifyDecryptIndexPerSec',
        await rate(() => {
          const s = solver(true);
          for (const b of batches) s.ingestBatch(b, nowMs);
          return s.stats.records;
        }),
      );
      for (const [name, v] of [
        ['pool2DecryptIndexPerSec', false],
        ['pool2VerifyDecryptIndexPerSec', true],
      ] as const) {
        put(
          name,
          await rate(async () => {
            const s = solver(v);
            await s.ingestParallel(pool, batches, nowMs);
            return s.stats.records;
          }),
        );
      }
      ctx.log(
        `rep ${rep}: ${Object.entries(series)
          .map(([k, v]) => `${k} ${Math.round(v[v.length - 1])}`)
          .join(', ')}`,
      );
    }
    await pool.stop();
    for (const [k, v] of Object.entries(series)) metrics[k] = summarise(v, k.endsWith('Cpu') ? 'records/CPU-s' : 'records/s');
    goals.decryptIndexPerSec = goal(metrics.decryptIndexPerSec.median, '>=', 226_000);
    notes.push(
      `load average while measuring decrypt+index: ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')} (1/5/15 min) on ${os.cpus().length} cores`,
    );
    notes.push(
      `speed-up over the baseline in the same run: ${(metrics.decryptIndexPerSec.median / metrics.baselineDecryptIndexPerSec.median).toFixed(2)}x wall, ${(metrics.decryptIndexPerSecCpu.median / metrics.baselineDecryptIndexPerSecCpu.median).toFixed(2)}x per CPU-second`,
    );

    const sizes = ctx.smoke ? [10_000, 100_000] : [100_000, 1_000_000, 3_000_000, 10_000_000];
    const r = rng(2);
    const index = new GeoIndex({ initialRecords: sizes[sizes.length - 1] + 1024 });
    let have = 0;
    const curve: string[] = [];
    for (const n of sizes) {
      const t0 = process.hrtime.bigint();
      grow(index, r, have, n);
      const buildS = Number(process.hrtime.bigint() - t0) / 1e9;
      have = n;
      const pids = endorse(index, r);
      const { ms, exposed } = latency(index, pids, Math.max(3, ctx.repeats));
      const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
      metrics[`diagnosisMs_${label}`] = summarise(ms, 'ms');
      curve.push(`${label}: ${summarise(ms, 'ms').median.toFixed(1)} ms (${exposed} exposed)`);
      ctx.log(
        `index ${label}: built +${buildS.toFixed(1)} s, diagnosis ${summarise(ms, 'ms').median.toFixed(1)} ms, ${exposed} exposed, ~${(index.bytes / 2 ** 20).toFixed(0)} MiB arrays`,
      );
      if (n === sizes[sizes.length - 1]) {
        metrics.indexMiB = summarise([index.bytes / 2 ** 20], 'MiB');
        metrics.heapMiB = summarise([process.memoryUsage().rss / 2 ** 20], 'MiB rss');
        goals[`diagnosisMs_${label}`] = goal(metrics[`diagnosisMs_${label}`].median, '<=', 1000);
      }
    }
    notes.push('growth curve (median diagnosis latency vs index size): ' + curve.join('; '));
    notes.push(
      'decryptIndex: ledger batch bytes, structure scan + one X25519/HKDF per pseudonym-day + ChaCha20-Poly1305 open + geodata decode + indexing, no signature re-verification (Solver verifyBatches: false); decryptIndexDecoded: the same from decoded Batch objects; verifyDecryptIndex adds Ed25519 batch + certificate verification per pseudonym-day; baseline: the previous path. pool2*: the same on a DecryptPool of 2 worker threads (verify/scan/ECDH/AEAD/decode in the workers, indexing on the main thread, in order). *Cpu metrics: records per CPU-second of the bench process, all its threads (the per-core rate, robust to other load).',
    );
    return { metrics, goals, notes };
  },
};

export default bench;
