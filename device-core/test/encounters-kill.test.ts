import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { EncounterLog, loadEncounters } from '../src/encounters/index.ts';
import { feeder } from './encounters-kill-feed.ts';

const child = fileURLToPath(new URL('./encounters-kill-child.ts', import.meta.url));
const KEY = new Uint8Array(32).fill(7);

/** Runs the child until it has acknowledged `killAfter` saves, then SIGKILLs it; the records the last ack covers. */
function runAndKill(path: string, run: number, killAfter: number): Promise<{ acks: number; covered: number; loaded: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, path, String(run)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acks = 0;
    let covered = 0;
    let loaded = -1;
    createInterface({ input: p.stdout }).on('line', (line) => {
      const [word, n] = line.split(' ');
      if (word === 'ready') loaded = Number(n);
      if (word !== 'ack') return;
      covered = Math.max(covered, Number(n));
      if (++acks === killAfter) p.kill('SIGKILL');
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve({ acks, covered, loaded }) : reject(new Error(`child exited ${code} before the kill`))));
  });
}

t.test('kill -9 after acknowledged saves loses no acknowledged encounter; the file loads', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  const killPoints = fc.sample(fc.integer({ min: 1, max: 80 }), { seed: 11, numRuns: 5 });
  /** What every run's acknowledged saves covered, replayed: the encounters each must hold at least. */
  const refs: EncounterLog[] = [];
  let held = 0;
  for (let run = 0; run < killPoints.length; run++) {
    const { acks, covered, loaded } = await runAndKill(path, run, killPoints[run]);
    t.ok(acks >= killPoints[run], `run ${run}: killed after ${acks} acks (${covered} records covered)`);
    t.ok(loaded >= held, `run ${run} started from the log left (${loaded} encounters)`);
    const ref = new EncounterLog();
    feeder(run)(ref, covered);
    refs.push(ref);
    const log = await loadEncounters(path, KEY); // throws if the file does not load
    const got = new Map(log.encounters().map((e) => [e.rpi, e]));
    held = got.size;
    for (let r = 0; r <= run; r++) {
      const lost = refs[r].encounters().filter((e) => !got.has(e.rpi) || got.get(e.rpi)!.samples < e.samples);
      t.same(
        lost.map((e) => e.rpi),
        [],
        `after kill ${run}: run ${r}'s ${refs[r].encounters().length} acknowledged encounters held with their samples`,
      );
    }
  }
  t.ok(
    readdirSync(dir).every((f) => f === 'encounters.bin' || f.endsWith('.tmp')),
    'only the log (and perhaps a temp file of a rewrite cut short)',
  );
});
