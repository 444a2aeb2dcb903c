/**
 * Embedded ledger: durable appends per second with group commit (64
 * concurrent appenders) vs one fsync per append, raw fdatasync cost, open
 * (recovery) time and memory per entry. Entries are batches of 28 TraceCodes
 * of 100 B, each with its 32-byte key.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readSync, writeSync, fdatasyncSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLedger, ed25519Signer, type AppendInput } from '@beepkit/gateway/ledger';
import { goal, sample, summarise, type Bench } from './lib.ts';
import { hostNow } from '@beepkit/protocol/clock';

const RECORDS = 28;
const signer = ed25519Signer(new Uint8Array(32).fill(3));

/** Entry `i`: 28 x 100 B records and 28 unique 32-byte keys, cheap to make. */
export function entry(i: number, salt: number): AppendInput {
  const data = new Uint8Array(RECORDS * 100);
  const dv = new DataView(data.buffer);
  const keys: Uint8Array[] = [];
  for (let r = 0; r < RECORDS; r++) {
    dv.setUint32(r * 100, salt);
    dv.setFloat64(r * 100 + 4, i);
    dv.setUint16(r * 100 + 12, r);
    const k = new Uint8Array(32);
    k.set(data.subarray(r * 100, r * 100 + 14));
    k[31] = 0x5a;
    keys.push(k);
  }
  return { data, keys };
}

async function appendRun(n: number, groupCommit: boolean, concurrency: number, salt: number): Promise<{ eps: number; bytes: number; blocks: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ledger-'));
  const l = new EmbeddedLedger({ now: hostNow, dir, signer, groupCommit });
  await l.open();
  const inputs = Array.from({ length: n }, (_, i) => entry(i, salt));
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await l.append('tracing', [inputs[next++]]);
    }),
  );
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const blocks = (await l.sth('tracing'))!.blockHeight + 1;
  await l.close();
  rmSync(dir, { recursive: true, force: true });
  return { eps: n / dt, bytes: inputs.reduce((a, e) => a + e.data.length, 0) / dt, blocks };
}

function fsyncMs(n: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fsync-'));
  const fd = openSync(join(dir, 'f'), 'w');
  const buf = Buffer.alloc(4096, 1);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    writeSync(fd, buf);
    fdatasyncSync(fd);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

/**
 * The floor of an open from the index, in the same machine state: `path` read into fresh memory
 * (1 MiB pieces) and SHA-256 over it, nothing decoded. On this VM the fresh pages' faults dominate it.
 */
function readHashMs(path: string): number {
  const t0 = process.hrtime.bigint();
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(statSync(path).size);
    const h = createHash('sha256');
    for (let o = 0; o < buf.length;) {
      const n = readSync(fd, buf, o, Math.min(1 << 20, buf.length - o), o);
      if (n === 0) break;
      h.update(buf.subarray(o, o + n));
      o += n;
    }
    h.digest();
  } finally {
    closeSync(fd);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Writes `n` entries (groups of 2000), then times opens with the persisted index (each beside the read-and-hash floor) and one rebuild without it. */
async function openRun(
  n: number,
  repeats: number,
  log: (m: string) => void,
): Promise<{ openMs: number[]; floorMs: number[]; rebuildMs: number[]; writeMs: number[]; indexBytes: number; memPerEntry: number; rssPerEntry: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ledger-open-'));
  const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
  try {
    const w = new EmbeddedLedger({ now: hostNow, dir, signer });
    await w.open();
    for (let i = 0; i < n; i += 2000)
      await w.append(
        'tracing',
        Array.from({ length: Math.min(2000, n - i) }, (_, j) => entry(i + j, 1 << 30)),
      );
    let t0 = process.hrtime.bigint();
    await w.close();
    const writeMs = [ms(t0)];
    const indexFile = join(dir, 'tracing', 'index');
    const indexBytes = statSync(indexFile).size;
    log(`${n} entries written; close with the index write ${writeMs[0].toFixed(0)} ms, index ${(indexBytes / 2 ** 20).toFixed(1)} MiB`);
    const openMs: number[] = [];
    const floorMs: number[] = [];
    let memPerEntry = 0;
    let rssPerEntry = 0;
    for (let r = 0; r < repeats; r++) {
      global.gc?.();
      floorMs.push(readHashMs(indexFile));
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      const l = new EmbeddedLedger({ now: hostNow, dir, signer });
      t0 = process.hrtime.bigint();
      await l.open();
      openMs.push(ms(t0));
      memPerEntry = l.memoryBytes() / n;
      rssPerEntry = Math.max(0, process.memoryUsage().rss - rss0) / n;
      if ((await l.sth('tracing'))?.treeSize !== n) throw new Error('open from the index lost entries');
      await l.close();
      log(`open with the index: ${openMs[r].toFixed(0)} ms (read and hash the index alone: ${floorMs[r].toFixed(0)} ms)`);
    }
    renameSync(indexFile, indexFile + '.aside');
    const rebuildMs: number[] = [];
    for (let r = 0; r < 1; r++) {
      const l = new EmbeddedLedger({ dir, readOnly: true });
      t0 = process.hrtime.bigint();
      await l.open();
      rebuildMs.push(ms(t0));
      await l.close();
      log(`open rebuilding from every record: ${rebuildMs[r].toFixed(0)} ms`);
    }
    return { openMs, floorMs, rebuildMs, writeMs, indexBytes, memPerEntry, rssPerEntry };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Bench = {
  name: 'ledger',
  description: 'embedded ledger durable appends (group commit vs fsync per append), open time, memory per entry',
  async run(ctx) {
    const n = ctx.smoke ? 3000 : 40_000;
    const nBase = ctx.smoke ? 200 : 800;
    // 1 M entries is ~3.6 GB written (~2 min on the shared machine); BENCH_LEDGER_OPEN_ENTRIES picks another size
    const nOpen = ctx.smoke ? 20_000 : Number(process.env.BENCH_LEDGER_OPEN_ENTRIES ?? 1_000_000);
    const notes: string[] = [];
    let salt = 0;
    const group: number[] = [];
    const mbs: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < ctx.repeats; r++) {
      const g = await appendRun(n, true, 64, salt++);
      group.push(g.eps);
      mbs.push(g.bytes / 1e6);
      ctx.log(`group commit: ${Math.round(g.eps)} entries/s in ${g.blocks} blocks (${(n / g.blocks).toFixed(1)} entries/block)`);
      const b = await appendRun(nBase, false, 64, salt++);
      base.push(b.eps);
      ctx.log(`fsync per append: ${Math.round(b.eps)} entries/s`);
    }
    const fsync = await sample(ctx.repeats, () => fsyncMs(ctx.smoke ? 50 : 300));

    const open = await openRun(nOpen, Math.min(ctx.repeats, 3), ctx.log);
    notes.push(
      `open measured on ${nOpen} entries (BENCH_LEDGER_OPEN_ENTRIES, default 1 000 000) of ${RECORDS} x 100 B records with ${RECORDS} keys each: ` +
        `open_ms reads the persisted index and checks it against a few records (the first and last indexed block of each segment, the tail block in full; gateway/src/ledger/recover.ts), ` +
        `open_floor_ms reads the index file into fresh memory with SHA-256 and nothing else (same run, before each open), open_to_floor their ratio; ` +
        `open_rebuild_ms is a read-only open without it (every record), index_write_ms the close that writes it (fdatasync included); ` +
        `memory_per_entry_bytes is the chain's state after open (tree levels, tag maps, locations, block metadata)`,
    );
    const g = summarise(group, 'entries/s');
    const tc = summarise(
      group.map((x) => x * RECORDS),
      'TraceCodes/s',
    );
    const ratio = summarise(
      group.map((x, i) => x / base[i]),
      'x',
    );
    return {
      metrics: {
        group_commit_entries_per_s: g,
        group_commit_tracecodes_per_s: tc,
        group_commit_mb_per_s: summarise(mbs, 'MB/s'),
        fsync_per_append_entries_per_s: summarise(base, 'entries/s'),
        group_commit_speedup: ratio,
        fdatasync_4k_ms: summarise(fsync, 'ms'),
        open_ms: summarise(open.openMs, 'ms'),
        open_floor_ms: summarise(open.floorMs, 'ms'),
        open_to_floor: summarise(
          open.openMs.map((x, i) => x / open.floorMs[i]),
          'x',
        ),
        open_rebuild_ms: summarise(open.rebuildMs, 'ms'),
        open_speedup: summarise(
          open.rebuildMs.map((r) => r / summarise(open.openMs, 'ms').median),
          'x',
        ),
        index_write_ms: summarise(open.writeMs, 'ms'),
        index_bytes_per_entry: summarise([open.indexBytes / nOpen], 'B'),
        memory_per_entry_bytes: summarise([open.memPerEntry], 'B'),
        open_rss_per_entry_bytes: summarise([open.rssPerEntry], 'B'),
      },
      goals: {
        group_commit_entries_per_s: goal(g.median, '>=', 10_000),
        group_commit_tracecodes_per_s: goal(tc.median, '>=', 100_000),
        group_commit_mb_per_s: goal(summarise(mbs, 'MB/s').median, '>=', 3),
        // issue #18: 1 M entries open in <= 2 s; checked at full size only
        ...(nOpen >= 1_000_000 ? { open_ms: goal(summarise(open.openMs, 'ms').median, '<=', (2000 * nOpen) / 1e6) } : {}),
      },
      notes,
    };
  },
};
export default bench;
