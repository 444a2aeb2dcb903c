/**
 * Crypto bench: TraceCode seal/open, Ed25519 (node:crypto vs @noble side by
 * side), 28-record batch verify, X25519 ECDH (node vs noble) and EN RPI
 * derivation (goal >= 5 000 000 RPIs/s on one core).
 */
import { goal, opsPerSec, sample, summarise, type Bench, type BenchResult } from './lib.ts';
import { Ed25519Signer, X25519Key, nobleEd25519, nobleX25519, nodeEd25519, x25519PublicKey } from '@beepkit/protocol/crypto';
import { createKeystore, deriveDayKeys } from '@beepkit/protocol/keys';
import { generalise } from '@beepkit/protocol/geodata';
import { issueCertificate, keyId } from '@beepkit/protocol/cert';
import { EcdhCache, TraceCodeSealer, openTraceCode, signBatch, verifyBatch } from '@beepkit/protocol/tracecode';
import { deriveRpisForKeys } from '@beepkit/protocol/rpi';

const bench: Bench = {
  name: 'crypto',
  description: 'TraceCode seal/open, Ed25519 node vs noble, batch verify, X25519, EN RPI derivation',
  async run(ctx): Promise<BenchResult> {
    const s = ctx.smoke ? 0.02 : 1;
    const n = (k: number) => Math.max(10, Math.round(k * s));
    const metrics: BenchResult['metrics'] = {};
    const put = async (name: string, unit: string, fn: () => number) => {
      const v = await sample(ctx.repeats, fn);
      metrics[name] = summarise(v, unit);
      ctx.log(`${name}: ${Math.round(metrics[name].median).toLocaleString('en-US')} ${unit}`);
      return metrics[name].median;
    };

    const dk = deriveDayKeys(createKeystore(new Uint8Array(32).fill(1), 20000), 20000);
    const solverPriv = new Uint8Array(32).fill(2);
    const solverPub = x25519PublicKey(solverPriv);
    const geo = generalise({ start: 20000 * 86400, end: 20000 * 86400 + 1800, lat: 37.87, lon: -122.27, accuracy: 5, sources: 1 }, 'grid10');
    const sealer = new TraceCodeSealer({ prefix: dk.pseudonym, ephemeralPriv: dk.ephemeralPriv, solverPub });
    const rec = sealer.seal(1, geo);
    const cache = new EcdhCache(solverPriv);
    await put('tracecode_seal', 'ops/s', () => opsPerSec(n(20_000), (i) => sealer.seal(i & 0xffff, geo)));
    await put('tracecode_open_cached', 'ops/s', () => opsPerSec(n(50_000), () => openTraceCode(cache, rec, dk.ephemeralPub)));
    await put('tracecode_open_with_ecdh', 'ops/s', () => opsPerSec(n(2_000), () => openTraceCode(solverPriv, rec, dk.ephemeralPub)));

    const msg = new Uint8Array(2600).fill(7);
    const seed = dk.signingSeed;
    const signer = new Ed25519Signer(seed);
    const sig = signer.sign(msg);
    const nodeSign = await put('ed25519_sign_node', 'ops/s', () => opsPerSec(n(10_000), () => signer.sign(msg)));
    const nobleSign = await put('ed25519_sign_noble', 'ops/s', () => opsPerSec(n(800), () => nobleEd25519.sign(seed, msg)));
    const nodeVerify = await put('ed25519_verify_node', 'ops/s', () => opsPerSec(n(4_000), () => nodeEd25519.verify(signer.publicKey, msg, sig)));
    const nobleVerify = await put('ed25519_verify_noble', 'ops/s', () => opsPerSec(n(400), () => nobleEd25519.verify(signer.publicKey, msg, sig)));
    metrics.ed25519_sign_ratio_node_over_noble = { median: nodeSign / nobleSign, min: nodeSign / nobleSign, max: nodeSign / nobleSign, unit: 'x' };
    metrics.ed25519_verify_ratio_node_over_noble = {
      median: nodeVerify / nobleVerify,
      min: nodeVerify / nobleVerify,
      max: nodeVerify / nobleVerify,
      unit: 'x',
    };

    const caSeed = new Uint8Array(32).fill(3);
    const cert = issueCertificate(caSeed, {
      role: 'device',
      serial: 1,
      day: 20000,
      notBefore: 0,
      notAfter: 2 ** 32 - 1,
      subject: dk.pseudonym,
      solverKeyId: keyId(solverPub),
      region: 'CA/Alameda/Berkeley',
    });
    const records = Array.from({ length: 28 }, (_, i) => sealer.seal(i, geo));
    const batch = signBatch({ day: 20000, ephemeralPub: dk.ephemeralPub, certificate: cert.bytes, records }, seed);
    await put('batch28_verify', 'batches/s', () => opsPerSec(n(2_000), () => verifyBatch(batch)));
    await put('batch28_verify_and_open', 'batches/s', () =>
      opsPerSec(n(1_000), () => {
        const v = verifyBatch(batch);
        for (const tc of v.batch.traceCodes) openTraceCode(cache, tc, v.batch.ephemeralPub);
      }),
    );

    const eph = new X25519Key(dk.ephemeralPriv);
    const nodeEcdh = await put('x25519_ecdh_node', 'ops/s', () => opsPerSec(n(4_000), () => eph.ecdh(solverPub)));
    const nobleEcdh = await put('x25519_ecdh_noble', 'ops/s', () => opsPerSec(n(300), () => nobleX25519(dk.ephemeralPriv, solverPub)));
    metrics.x25519_ratio_node_over_noble = { median: nodeEcdh / nobleEcdh, min: nodeEcdh / nobleEcdh, max: nodeEcdh / nobleEcdh, unit: 'x' };

    const keys = ctx.smoke ? 100 : 20_000;
    const teks = Array.from({ length: keys }, (_, i) => Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j * 7) & 0xff));
    const starts = teks.map(() => 2642976);
    const out = new Uint8Array(keys * 144 * 16);
    deriveRpisForKeys(teks, starts, out); // warm-up
    const rpi = await put('rpi_derivation', 'RPIs/s', () => {
      const t0 = process.hrtime.bigint();
      deriveRpisForKeys(teks, starts, out);
      return (keys * 144) / (Number(process.hrtime.bigint() - t0) / 1e9);
    });
    const sealOpen = metrics.tracecode_open_cached.median / metrics.tracecode_open_with_ecdh.median;
    return {
      metrics,
      goals: { rpi_derivation: goal(rpi, '>=', 5_000_000) },
      notes: [
        `record 89 bytes (suffix 56), 28-record batch ${batch.length} bytes`,
        `cached open is ${sealOpen.toFixed(1)}x faster than open with a fresh ECDH`,
        `node:crypto vs @noble: Ed25519 sign ${(nodeSign / nobleSign).toFixed(1)}x, verify ${(nodeVerify / nobleVerify).toFixed(1)}x, X25519 ${(nodeEcdh / nobleEcdh).toFixed(1)}x`,
      ],
    };
  },
};
export default bench;
