import t from 'tap';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex, toHex } from '@beepkit/protocol';
import { verifyInclusion } from '@beepkit/protocol/merkle';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { batch, receiptOf, testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const bin = fileURLToPath(new URL('../../bin/beepkit.js', import.meta.url));

function beepkit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 99) : 0, stdout, stderr });
    });
  });
}

t.test('beepkit ledger verify/get/proof/tail', async (t) => {
  const dir = t.testdir();
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  const receipts = [];
  for (let i = 0; i < 4; i++) receipts.push(receiptOf((await l.append('tracing', [batch(`cli${i}`)]))[0]));
  await l.append('notification', [batch('note')]);
  await l.close();

  const good = await beepkit('ledger', 'verify', dir);
  t.equal(good.code, 0, good.stderr);
  t.match(JSON.parse(good.stdout), { ok: true, chains: { tracing: { blocks: 4, entries: 4 }, notification: { entries: 1 } } });

  const h = toHex(receipts[1].entryHash);
  const got = await beepkit('ledger', 'get', dir, h);
  t.equal(got.code, 0, got.stderr);
  t.equal(JSON.parse(got.stdout).data, toHex(batch('cli1').data));
  const proof = await beepkit('ledger', 'proof', dir, h);
  const r = JSON.parse(proof.stdout) as { leafIndex: number; inclusionProof: string[]; sth: { treeSize: number; rootHash: string } };
  t.ok(
    verifyInclusion(
      fromHex(h),
      r.leafIndex,
      r.sth.treeSize,
      r.inclusionProof.map((x) => fromHex(x)),
      fromHex(r.sth.rootHash),
    ),
    'CLI proof verifies',
  );
  const tail = await beepkit('ledger', 'tail', dir, '--chain', 'tracing', '-n', '2');
  t.same(
    (JSON.parse(tail.stdout) as { height: number }[]).map((b) => b.height),
    [2, 3],
  );
  const missing = await beepkit('ledger', 'get', dir, '00'.repeat(32));
  t.equal(missing.code, 1, 'absent entry exits 1');
  const help = await beepkit('ledger', '--help');
  t.match(help.stdout, /verify/);

  const file = join(dir, 'tracing', readdirSync(join(dir, 'tracing'))[0]);
  const buf = readFileSync(file);
  buf[buf.length - 200] ^= 0x01;
  writeFileSync(file, buf);
  const bad = await beepkit('ledger', 'verify', dir);
  t.equal(bad.code, 1, 'corrupted ledger exits 1');
  t.match(bad.stderr, /ledger invalid: tracing block/);
});
