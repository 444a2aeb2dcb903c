// Open-time driver (not a bench) on an existing ledger directory: the first writable open (no index: rebuilds from
// every record, then writes the index), opens with the index, and a read-only rebuild with the index set aside.
// Usage: [REBUILD=0] [JSON=1: a last line {"n","opens":[{"wallMs","cpuMs"}]} for bench/ledger.ts] node --expose-gc --import tsx bench/profile/ledger-open.ts <ledger dir> [repeats]
import { readFileSync, renameSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { EmbeddedLedger, ed25519Signer } from '@beepkit/gateway/ledger';
import { hostNow } from '@beepkit/protocol/clock';

const [dir, reps = '3'] = process.argv.slice(2);
const signer = ed25519Signer(new Uint8Array(32).fill(3)); // bench/ledger.ts's key
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const rssMB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
const idx = join(dir, 'tracing', 'index');

const opens: { wallMs: number; cpuMs: number }[] = [];
let entries = 0;
/** RSS growth per entry of this process's first open (a fresh process: nothing freed before it to reuse). */
let firstOpenRssPerEntry: number | undefined;

async function timedOpen(label: string, readOnly = false): Promise<void> {
  global.gc?.();
  const r0 = rssMB();
  const l = readOnly ? new EmbeddedLedger({ dir, readOnly: true }) : new EmbeddedLedger({ now: hostNow, dir, signer });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await l.open();
  const openMs = ms(t0);
  const c = process.cpuUsage(c0);
  const n = (await l.sth('tracing'))?.treeSize ?? 0;
  if (label.startsWith('open with the index')) opens.push({ wallMs: openMs, cpuMs: (c.user + c.system) / 1000 });
  entries = n;
  const r1 = rssMB();
  firstOpenRssPerEntry ??= n > 0 ? ((r1 - r0) * 2 ** 20) / n : 0;
  const mem = l.memoryBytes();
  const t1 = process.hrtime.bigint();
  await l.close();
  console.log(
    `${label}: ${n} entries, open ${openMs.toFixed(0)} ms wall, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU (${((openMs * 1e6) / n).toFixed(2)} ms per M), close ${ms(t1).toFixed(0)} ms, state ${(mem / n).toFixed(0)} B/entry, RSS +${(((r1 - r0) * 2 ** 20) / n).toFixed(0)} B/entry; load ${load()}`,
  );
}

await timedOpen(statSync(idx, { throwIfNoEntry: false }) ? 'open (index present)' : 'first open (rebuild + index write)');
console.log(`index ${(statSync(idx).size / 2 ** 20).toFixed(1)} MiB`);
for (let i = 0; i < Number(reps); i++) await timedOpen(`open with the index #${i + 1}`);
renameSync(idx, idx + '.aside');
if (process.env.REBUILD !== '0') await timedOpen('read-only open without the index (rebuild)', true);
renameSync(idx + '.aside', idx);
if (process.env.JSON === '1') console.log(JSON.stringify({ n: entries, opens, firstOpenRssPerEntry }));
