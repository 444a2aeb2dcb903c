/**
 * Self-matching throughput: (1) a notification block of 2.1 M 16-byte
 * fingerprints (BeepTrace's 33.6 MB/day) scanned against the agent's own 14
 * days of fingerprints; (2) endorsed TEKs expanded to RPIs (protocol's batched
 * derivation) per second on one core, alone and with the encounter-log scan.
 */
import { createCipheriv, createHash, hkdfSync } from 'node:crypto';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { deriveRpisForKeys, EKROLLING_PERIOD } from '@beepkit/protocol/rpi';
import { toHex } from '@beepkit/protocol/bytes';
import { OwnFingerprints, matchFingerprints, matchTeks, type EncounterLike } from '@beepkit/agent/matching';
import { goal, sample, summarise, type Bench } from './lib.ts';

const DAY = 86_400_000;

function prng(seed: string, n: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return new Uint8Array(createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n)));
}

const bench: Bench = {
  name: 'self-match',
  description: '2.1 M fingerprint block vs own fingerprints; TEK → RPI derivation and encounter match rate',
  async run(ctx) {
    const today = 20_413;
    const n = ctx.smoke ? 210_000 : 2_100_000;
    const prefixes = Array.from({ length: 14 }, (_, i) => ({ day: today - i, prefix: prng(`p${i}`, 32) }));
    const own = new OwnFingerprints(prefixes, { now: today * DAY });
    const block = { fingerprints: prng('block', n * 16), levels: new Uint8Array(n).fill(1), days: new Uint32Array(n).fill(today) };
    block.fingerprints.set(fingerprint(prefixes[4].prefix), (n >> 1) * 16);
    block.levels[n >> 1] = 2;
    ctx.log(`block: ${n} fingerprints, ${(block.fingerprints.length / 1e6).toFixed(1)} MB`);
    const matchSeconds = await sample(ctx.repeats, () => {
      const t0 = process.hrtime.bigint();
      const m = matchFingerprints(own, block);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      if (m.length !== 1 || m[0].level !== 'high') throw new Error('planted match not found');
      return dt;
    });

    const keys = ctx.smoke ? 1000 : 14_000;
    const teks = Array.from({ length: keys }, (_, i) => prng(`tek${i}`, 16));
    const starts = teks.map((_, i) => (today - (i % 14)) * 144);
    const out = new Uint8Array(keys * EKROLLING_PERIOD * 16);
    // Rates per CPU-second of this (single-threaded) process, i.e. per core,
    // so a loaded shared machine does not distort them; wall-clock alongside.
    const wall: number[] = [];
    const rate = (derive: typeof deriveRpisForKeys) => () => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      derive(teks, starts, out);
      const c = process.cpuUsage(c0);
      wall.push((keys * EKROLLING_PERIOD) / (Number(process.hrtime.bigint() - t0) / 1e9));
      return (keys * EKROLLING_PERIOD) / ((c.user + c.system) / 1e6);
    };
    // Baseline in the same run: node's hkdfSync per key (what protocol did before the midstate RPIK).
    const hkdfBaseline: typeof deriveRpisForKeys = (ks, st, o) => {
      const pad = Buffer.alloc(EKROLLING_PERIOD * 16);
      for (let k = 0; k < ks.length; k++) {
        for (let i = 0; i < EKROLLING_PERIOD; i++) {
          pad.write('EN-RPI', i * 16, 'latin1');
          pad.writeUInt32LE(st[k] + i, i * 16 + 12);
        }
        const c = createCipheriv('aes-128-ecb', Buffer.from(hkdfSync('sha256', ks[k], new Uint8Array(0), 'EN-RPIK', 16)), null);
        c.setAutoPadding(false);
        o!.set(c.update(pad), k * EKROLLING_PERIOD * 16);
      }
      return o!;
    };
    const baselineRate = await sample(ctx.repeats, rate(hkdfBaseline));
    wall.length = 0;
    const deriveRate = await sample(ctx.repeats, rate(deriveRpisForKeys));
    const deriveWall = [...wall];
    const encounters: EncounterLike[] = Array.from({ length: 5000 }, (_, i) => ({ rpi: toHex(prng(`seen${i}`, 16)), firstSeen: 0, lastSeen: 0, windows: [] }));
    const endorsed = teks.map((tek, i) => ({ tek, rollingStart: starts[i] }));
    const matchRate = await sample(ctx.repeats, () => {
      const t0 = process.hrtime.bigint();
      matchTeks(endorsed, encounters);
      return (keys * EKROLLING_PERIOD) / (Number(process.hrtime.bigint() - t0) / 1e9);
    });
    const m = summarise(matchSeconds, 's');
    const d = summarise(deriveRate, 'RPI/cpu-s');
    return {
      metrics: {
        fingerprint_match_2_1M: m,
        fingerprints_per_sec: summarise(
          matchSeconds.map((s) => n / s),
          'fp/s',
        ),
        rpi_derive_per_sec: d,
        rpi_derive_wall_per_sec: summarise(deriveWall, 'RPI/s'),
        rpi_derive_baseline_hkdfsync_per_sec: summarise(baselineRate, 'RPI/cpu-s'),
        rpi_derive_speedup_vs_hkdfsync: summarise([d.median / summarise(baselineRate, 'x').median], 'ratio'),
        tek_match_rpis_per_sec: summarise(matchRate, 'RPI/s'),
      },
      goals: {
        fingerprint_match_2_1M: goal(m.median * (2_100_000 / n), '<=', 0.2),
        rpi_derive_per_sec: goal(d.median, '>=', 5_000_000),
      },
      notes: [
        `${n} fingerprints vs ${own.set.size} own; ${keys} TEKs × ${EKROLLING_PERIOD} RPIs against ${encounters.length} observed RPIs; single thread. rpi_derive_per_sec is protocol deriveRpisForKeys (precomputed HKDF midstates, used by matchTeks); the baseline derives RPIK with node hkdfSync per key, same run`,
      ],
    };
  },
};

export default bench;
