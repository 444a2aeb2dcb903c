import t from 'tap';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyConsistency, verifyInclusion, leafHash, signingBytes } from '@beepkit/protocol/merkle';
import { equalBytes } from '@beepkit/protocol';
import { EmbeddedLedger, ed25519Verifier, randomSigner, verifyLedgerDir } from '../src/ledger/index.ts';
import { batch, isReceipt, receiptOf, testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const verifySig = ed25519Verifier(testSigner.publicKey);

t.test('append, get, getByKey, proof, sth, consistency', async (t) => {
  const dir = t.testdir();
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  t.equal(await l.sth('tracing'), undefined, 'no tree head before the first block');
  const first = (await l.append('tracing', [batch('a'), batch('b')])).map(receiptOf);
  t.equal(first.length, 2);
  t.same(
    first.map((r) => r.leafIndex),
    [0, 1],
  );
  t.equal(first[0].blockHeight, 0);
  // concurrent appends coalesce into one block
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => l.append('tracing', [batch(`c${i}`)])));
  const heights = new Set(many.map((r) => receiptOf(r[0]).blockHeight));
  t.ok(heights.size < 20, `20 concurrent appends landed in ${heights.size} block(s)`);
  for (const r of [...first, ...many.flat().map(receiptOf)]) {
    t.ok(verifyInclusion(r.entryHash, r.leafIndex, r.sth.treeSize, r.inclusionProof, r.sth.rootHash), `receipt ${r.leafIndex} verifies`);
    t.ok(verifySig(signingBytes(r.sth), r.sth.signature), 'STH signature verifies');
  }
  const sth = await l.sth('tracing');
  t.equal(sth?.treeSize, 22);
  const e = await l.get('tracing', first[1].entryHash);
  t.same(e?.data, batch('b').data);
  t.equal(e?.leafIndex, 1);
  const byKey = await l.getByKey('tracing', batch('c7').keys![2]);
  t.ok(byKey && equalBytes(byKey.entryHash, leafHash(batch('c7').data)), 'found by key');
  t.equal(await l.getByKey('tracing', new Uint8Array(32)), undefined);
  t.equal(await l.get('notification', first[0].entryHash), undefined, 'chains are separate');
  const p = await l.proof('tracing', first[0].entryHash);
  t.ok(p && verifyInclusion(p.entryHash, 0, p.sth.treeSize, p.inclusionProof, p.sth.rootHash), 'proof against latest STH');
  const old = await l.proof('tracing', first[0].entryHash, 2);
  t.same(old?.sth, first[0].sth, 'proof against a past tree head');
  await t.rejects(l.proof('tracing', first[0].entryHash, 3), { code: 'E_RANGE' });
  const cp = await l.consistency('tracing', 2, 22);
  t.ok(verifyConsistency(2, 22, first[0].sth.rootHash, sth!.rootHash, cp), 'consistency proof verifies');
  const blocks = await l.blocks('tracing', 0, 100);
  t.equal(blocks[0].header.entryCount, 2);
  t.equal(
    blocks.reduce((a, b) => a + b.header.entryCount, 0),
    22,
  );
  t.same((await l.tail('tracing'))?.hash, blocks[blocks.length - 1].hash);
  t.ok(equalBytes(blocks[1].header.prevHash, blocks[0].hash), 'blocks are linked');
  const report = await l.verify();
  t.ok(report.ok, report.problem ?? 'verify ok');
  t.equal(report.chains.tracing.entries, 22);
  await l.close();
});

t.test('idempotent appends and E_DUPLICATE by key', async (t) => {
  const dir = t.testdir();
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  const [r1] = (await l.append('tracing', [batch('x')])).map(receiptOf);
  const size = () => readdirSync(join(dir, 'tracing')).reduce((a, f) => a + statSync(join(dir, 'tracing', f)).size, 0);
  const before = size();
  const [again] = await l.append('tracing', [batch('x')]);
  t.same(again, r1, 'the existing receipt comes back');
  t.equal(size(), before, 'nothing written');
  const clash = { data: new Uint8Array([1, 2, 3]), keys: [batch('x').keys![1]] };
  const res = await l.append('tracing', [batch('y'), clash, batch('y'), batch('z')]);
  t.ok(isReceipt(res[0]) && isReceipt(res[2]) && isReceipt(res[3]), 'the others commit');
  t.match(res[1], { error: { code: 'E_DUPLICATE' } });
  t.same(res[0], res[2], 'same entry twice in one group: one leaf');
  const inGroup = await l.append('tracing', [batch('k1'), { data: new Uint8Array([9]), keys: [batch('k1').keys![0]] }]);
  t.match(inGroup[1], { error: { code: 'E_DUPLICATE' } }, 'key clash inside one group');
  t.equal((await l.sth('tracing'))?.treeSize, 4);
  t.ok((await l.verify()).ok);
  await l.close();
});

t.test('restart reopens with identical state', async (t) => {
  const dir = t.testdir();
  let l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner, segmentBytes: 4096 });
  await l.open();
  const receipts = [];
  for (let i = 0; i < 30; i++) receipts.push(...(await l.append(i % 3 ? 'tracing' : 'notification', [batch(`r${i}`), batch(`s${i}`)])).map(receiptOf));
  const sth = await l.sth('tracing');
  await l.close();
  t.ok(readdirSync(join(dir, 'tracing')).length > 1, 'several segments');
  l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner, segmentBytes: 4096 });
  await l.open();
  t.same(await l.sth('tracing'), sth, 'same tree head');
  const next = receiptOf((await l.append('tracing', [batch('after-restart')]))[0]);
  t.equal(next.leafIndex, sth!.treeSize, 'appends continue after the last leaf');
  for (const r of receipts) {
    const e = await l.get(r.chain, r.entryHash);
    t.equal(e?.leafIndex, r.leafIndex);
  }
  const [dup] = await l.append('notification', [batch('r0')]);
  t.same(dup, receipts[0], 'idempotent across restart');
  t.ok((await l.verify()).ok);
  await l.close();
  await t.rejects(new EmbeddedLedger({ now: hostNow, dir, signer: randomSigner() }).open(), { code: 'E_KEY' }, 'another key is refused');
});

t.test('verify detects a flipped byte anywhere and a forged signature', async (t) => {
  const dir = t.testdir();
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  for (let i = 0; i < 5; i++) await l.append('tracing', [batch(`f${i}`, 3)]);
  t.ok((await l.verify()).ok);
  const file = join(dir, 'tracing', readdirSync(join(dir, 'tracing'))[0]);
  const good = readFileSync(file);
  const offsets = [0, 9, 16, 20, 24, 30, 60, 100, 140, 200, Math.floor(good.length / 2), good.length - 70, good.length - 1];
  for (const off of offsets) {
    const bad = Buffer.from(good);
    bad[off] ^= 0x40;
    writeFileSync(file, bad);
    const rep = await l.verify();
    t.notOk(rep.ok, `flip at ${off}: ${rep.problem}`);
  }
  writeFileSync(file, good);
  t.ok((await l.verify()).ok, 'restored file verifies');
  await l.close();
  // A block re-signed by another key with a fixed-up checksum: only the signature is wrong.
  const forger = randomSigner();
  const dir2 = t.testdir();
  const l2 = new EmbeddedLedger({ now: hostNow, dir: dir2, signer: forger });
  await l2.open();
  for (let i = 0; i < 5; i++) await l2.append('tracing', [batch(`f${i}`, 3)]);
  await l2.close();
  const rep = verifyLedgerDir(dir2, { publicKey: testSigner.publicKey });
  t.notOk(rep.ok, `forged: ${rep.problem}`);
});
