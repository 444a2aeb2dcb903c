// Memory of the agent's encounter log (not a bench): records 20 000 encounters of 60 samples over 15 minutes each
// (200 peers at a time, each with its own RPI, AEM and address, as an EN crowd) and prints the bytes each encounter
// holds after a full GC: the V8 heap, the typed arrays' backing stores (outside the V8 heap, in `arrayBuffers`) and
// both. `compact` is the log (@beepkit/device-core/encounters); `reference` the object-per-encounter log it replaced
// (device-core/test/encounters-reference.ts). Each runs in a fresh process.
// Usage: node --expose-gc --import tsx bench/profile/encounter-memory.ts [compact|reference] [encounters]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@beepkit/protocol/rng';

interface Log {
  record(rpi: string, aem: string, address: string, att: number, at: number, close?: boolean): unknown;
  readonly size: number;
}

const [impl, count = '20000'] = process.argv.slice(2);
const self = fileURLToPath(import.meta.url);

if (impl !== 'compact' && impl !== 'reference') {
  for (const which of ['reference', 'compact']) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, which, count], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const make = async (): Promise<Log> => {
  if (impl === 'compact') return new (await import('@beepkit/device-core/encounters')).EncounterLog({ retentionMs: Infinity });
  const ref = new URL('../../device-core/test/encounters-reference.ts', import.meta.url).href;
  const { ReferenceEncounterLog } = (await import(ref)) as { ReferenceEncounterLog: new (o: object) => Log };
  return new ReferenceEncounterLog({ retentionMs: Infinity });
};

const n = Number(count);
const rng = mulberry32(751);
const hex = (bytes: number): string => {
  let s = '';
  for (let i = 0; i < bytes; i++) s += ((rng() * 256) | 0).toString(16).padStart(2, '0');
  return s;
};
const mac = (): string => Array.from({ length: 6 }, () => hex(1)).join(':');
const T0 = 1_700_000_000_000;
const CROWD = 200;

const log = await make();
gc();
gc();
const m0 = process.memoryUsage();
const t0 = process.hrtime.bigint();
for (let b = 0; b * CROWD < n; b++) {
  const peers = Array.from({ length: Math.min(CROWD, n - b * CROWD) }, () => ({
    rpi: hex(16),
    aem: hex(4),
    address: mac(),
  }));
  for (let i = 0; i < 60; i++)
    for (const [p, peer] of peers.entries())
      log.record(peer.rpi, peer.aem, peer.address, 50 + ((rng() * 35) | 0), T0 + b * 900_000 + i * 15_000 + p * 10, rng() < 0.3);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
gc();
gc();
const m1 = process.memoryUsage();
const heap = (m1.heapUsed - m0.heapUsed) / log.size;
const buffers = (m1.arrayBuffers - m0.arrayBuffers) / log.size;
const columns = (log as { bytes?: number }).bytes;
console.log(
  `${impl.padEnd(9)} ${log.size} encounters: ${heap.toFixed(0)} B heap + ${buffers.toFixed(0)} B array buffers = ${(heap + buffers).toFixed(0)} B an encounter` +
    (columns !== undefined ? ` (columns ${(columns / log.size).toFixed(0)} B with their spare capacity)` : '') +
    `; ${((n * 60) / ms).toFixed(0)} records/ms`,
);

if (impl === 'compact') {
  // the file: a first save writes it whole, a save after a minute of the crowd (200 peers, 4 samples each) appends
  const { saveEncounters } = await import('@beepkit/device-core/encounters');
  const dir = mkdtempSync(join(tmpdir(), 'encounter-memory-'));
  const path = join(dir, 'encounters.bin');
  const key = new Uint8Array(32).fill(1);
  const compact = log as import('@beepkit/device-core/encounters').EncounterLog;
  const timed = async (): Promise<[number, number]> => {
    const before = existsSync(path) ? statSync(path).size : 0;
    const t = process.hrtime.bigint();
    await saveEncounters(path, compact, key);
    return [statSync(path).size - before, Number(process.hrtime.bigint() - t) / 1e6];
  };
  const [whole, wholeMs] = await timed();
  const peers = Array.from({ length: CROWD }, () => ({ rpi: hex(16), aem: hex(4), address: mac() }));
  const at = T0 + (n / CROWD) * 900_000;
  for (let i = 0; i < 4; i++) for (const [p, peer] of peers.entries()) compact.record(peer.rpi, peer.aem, peer.address, 60, at + i * 15_000 + p * 10);
  const [appended, appendMs] = await timed();
  console.log(`compact   file: first save ${whole} B whole in ${wholeMs.toFixed(0)} ms; a minute later ${appended} B appended in ${appendMs.toFixed(0)} ms`);
  rmSync(dir, { recursive: true });
}
