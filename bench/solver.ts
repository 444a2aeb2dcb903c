/**
 * Solver: verify + decrypt + index throughput of real sealed batches
 * (pseudonym-days of 28 TraceCodes), decrypt + index alone, and the latency of
 * one diagnosis (14 endorsed pseudonym-days × 28 records) against indexes of
 * growing size built directly from index entries (building 10 M sealed records
 * would take longer than the measurement): the growth curve, 1 M and 10 M.
 */
import { Ed25519Signer, taggedHash, x25519PublicKey } from '../protocol/src/crypto/index.ts';
import { issueCertificate, keyId } from '../protocol/src/cert/index.ts';
import { dayKeysFromChain } from '../protocol/src/keys/index.ts';
import { TraceCodeSealer, decodeBatch, signBatch } from '../protocol/src/tracecode/index.ts';
import { generalise } from '../protocol/src/geodata/index.ts';
import { GeoIndex, Solver, exposures, matchRules } from '../gateway/src/solver/index.ts';
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
    const cert = issueCertificate(caSeed, { role: 'device', serial: p, day: DAY, notBefore: T0, notAfter: T0 + 86400, subject: k.pseudonym, solverKeyId: keyId(solverPub), region: 'b' }).bytes;
    const sealer = new TraceCodeSealer({ prefix: k.pseudonym, ephemeralPriv: k.ephemeralPriv, solverPub });
    const records = Array.from({ length: 28 }, (_, i) => {
      const start = T0 + i * 1800;
      return sealer.seal(i, generalise({ start, end: start + 1800, lat: LAT0 + r() * 0.1, lon: LON0 + r() * 0.2, accuracy: 5, sources: 1 }, 'exact'));
    });
    out.push(signBatch({ day: DAY, ephemeralPub: sealer.ephemeralPub, certificate: cert, records }, k.signingSeed));
  }
  return out;
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
    const full: number[] = [];
    const dec: number[] = [];
    for (let rep = 0; rep < ctx.repeats; rep++) {
      const s1 = new Solver({ source: { blocks: async () => [] }, sink: { publish: async () => undefined }, solverKey, caPub, now: () => (T0 + 3600) * 1000, index: { initialRecords: pd * 28 } });
      let t0 = process.hrtime.bigint();
      for (const b of batches) s1.ingestBatch(b, (T0 + 3600) * 1000);
      full.push(s1.stats.records / (Number(process.hrtime.bigint() - t0) / 1e9));
      const s2 = new Solver({ source: { blocks: async () => [] }, sink: { publish: async () => undefined }, solverKey, caPub, now: () => (T0 + 3600) * 1000, index: { initialRecords: pd * 28 } });
      t0 = process.hrtime.bigint();
      for (const b of decoded) s2.indexBatch(b);
      dec.push(s2.stats.records / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    metrics.verifyDecryptIndexPerSec = summarise(full, 'records/s');
    metrics.decryptIndexPerSec = summarise(dec, 'records/s');
    goals.decryptIndexPerSec = goal(metrics.decryptIndexPerSec.median, '>=', 226_000);

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
      ctx.log(`index ${label}: built +${(buildS).toFixed(1)} s, diagnosis ${summarise(ms, 'ms').median.toFixed(1)} ms, ${exposed} exposed, ~${(index.bytes / 2 ** 20).toFixed(0)} MiB arrays`);
      if (n === sizes[sizes.length - 1]) {
        metrics.indexMiB = summarise([index.bytes / 2 ** 20], 'MiB');
        metrics.heapMiB = summarise([process.memoryUsage().rss / 2 ** 20], 'MiB rss');
        goals[`diagnosisMs_${label}`] = goal(metrics[`diagnosisMs_${label}`].median, '<=', 1000);
      }
    }
    notes.push('growth curve (median diagnosis latency vs index size): ' + curve.join('; '));
    notes.push('verifyDecryptIndex includes Ed25519 batch + certificate verification per pseudonym-day; decryptIndex is ECDH (cached) + ChaCha20-Poly1305 open + geodata decode + indexing.');
    return { metrics, goals, notes };
  },
};

export default bench;
