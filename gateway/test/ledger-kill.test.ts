import t from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { toHex } from '@beepkit/protocol';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const child = fileURLToPath(new URL('./ledger-child.ts', import.meta.url));

/** Runs the child until it has acknowledged `killAfter` entries, then SIGKILLs it. */
function runAndKill(dir: string, run: number, killAfter: number, acked: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(run)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    createInterface({ input: p.stdout }).on('line', (line) => {
      if (!line.startsWith('ack ')) return;
      acked.push(line.slice(4));
      if (++n === killAfter) p.kill('SIGKILL');
    });
    p.on('error', reject);
    p.on('exit', (_code, signal) => resolve(signal === 'SIGKILL' ? n : -1));
  });
}

t.test('kill -9 at random moments loses no acknowledged entry', async (t) => {
  const dir = t.testdir();
  const killPoints = fc.sample(fc.integer({ min: 1, max: 400 }), { seed: 6, numRuns: 5 });
  const acked: string[] = [];
  for (let run = 0; run < killPoints.length; run++) {
    const n = await runAndKill(dir, run, killPoints[run], acked);
    t.ok(n >= killPoints[run], `run ${run} killed by SIGKILL after ${n} acks`);
  }
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  const counts = new Map<string, number>();
  for (let h = 0; ; h += 100) {
    const blocks = await l.blocks('tracing', h, 100);
    if (!blocks.length) break;
    for (const b of blocks) for (const e of b.entries) counts.set(toHex(e.entryHash), (counts.get(toHex(e.entryHash)) ?? 0) + 1);
  }
  const missing = acked.filter((h) => counts.get(h) !== 1);
  t.equal(missing.length, 0, `all ${acked.length} acknowledged entries present exactly once`);
  t.ok(
    [...counts.values()].every((c) => c === 1),
    'no entry twice',
  );
  const rep = await l.verify();
  t.ok(rep.ok, rep.problem ?? `verify ok (${rep.chains.tracing.entries} entries)`);
  await l.close();
});
