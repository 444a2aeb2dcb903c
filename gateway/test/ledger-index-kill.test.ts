// kill -9 while the index is being written (at close): the next open ignores the
// stray index.tmp, uses the previous index (caught up) or rebuilds, and loses nothing.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { toHex } from '@beepkit/protocol';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const child = fileURLToPath(new URL('./ledger-index-child.ts', import.meta.url));

/**
 * Runs the child until its `closes`-th "closing" line, then SIGKILLs it at the first change the
 * chain directory reports to an index file after that (inotify): inside the index write, or just
 * after its rename. (A kill on the line alone mostly landed after the write: the write of a
 * compact index is ~10 ms of a ~180 ms close-reopen-append cycle under load.)
 */
function runAndKill(dir: string, run: number, closes: number, acked: string[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(run)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    let watcher: FSWatcher | undefined;
    let fallback: NodeJS.Timeout | undefined;
    const kill = (): void => {
      watcher?.close();
      clearTimeout(fallback);
      p.kill('SIGKILL');
    };
    createInterface({ input: p.stdout }).on('line', (line) => {
      if (line.startsWith('ack ')) acked.push(line.slice(4));
      else if (line === 'closing' && ++n === closes) {
        watcher = watch(join(dir, 'tracing'), (_event, name) => {
          if (name?.startsWith('index')) kill();
        });
        fallback = setTimeout(kill, 5000);
      }
    });
    p.on('error', reject);
    p.on('exit', (_code, signal) => {
      watcher?.close();
      clearTimeout(fallback);
      resolve(signal === 'SIGKILL');
    });
  });
}

t.test('kill -9 during the index write loses no acknowledged entry and never uses a torn index', async (t) => {
  const dir = t.testdir();
  // the kill lands inside the index write in most runs: run until two did (at least 3, at most 12 runs)
  const closes = fc.sample(fc.integer({ min: 1, max: 4 }), { seed: 18, numRuns: 12 });
  const acked: string[] = [];
  let torn = 0;
  let run = 0;
  for (; run < closes.length && (run < 3 || torn < 2); run++) {
    t.ok(await runAndKill(dir, run, closes[run], acked), `run ${run} killed after ${closes[run]} close(s)`);
    if (existsSync(join(dir, 'tracing', 'index.tmp'))) torn++;
  }
  t.ok(torn >= 1, `${torn} of ${run} kills left a half-written index.tmp`);
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  t.notOk(existsSync(join(dir, 'tracing', 'index.tmp')), 'a writable open removes the stray tmp file');
  let found = 0;
  for (const h of acked) if (await l.get('tracing', Buffer.from(h, 'hex'))) found++;
  t.equal(found, acked.length, `all ${acked.length} acknowledged entries present`);
  const sth = (await l.sth('tracing'))!;
  t.equal(sth.treeSize, 8000 + acked.length, 'each exactly once (no entry twice)');
  t.ok((await l.verify()).ok, 'verify');
  await l.close();
  unlinkSync(join(dir, 'tracing', 'index'));
  const r = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner, readOnly: true });
  await r.open();
  t.equal(toHex((await r.sth('tracing'))!.rootHash), toHex(sth.rootHash), 'the same tree head as a rebuild without the index');
  await r.close();
});
