import t from 'tap';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedLedger, META_FILE } from '../src/ledger/index.ts';
import { batch, receiptOf, testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

t.test('a torn last record is truncated at open, at every byte offset', async (t) => {
  const src = t.testdir();
  const l = new EmbeddedLedger({ now: hostNow, dir: src, signer: testSigner });
  await l.open();
  for (let i = 0; i < 4; i++) await l.append('tracing', [batch(`t${i}`, 2)]);
  const before = (await l.sth('tracing'))!;
  await l.append('tracing', [batch('last', 1)]);
  await l.close();
  const seg = readdirSync(join(src, 'tracing'))[0];
  const full = readFileSync(join(src, 'tracing', seg));
  // find the start of the last record by walking the frames
  let o = 16;
  let last = o;
  while (o < full.length) {
    last = o;
    o += 8 + full.readUInt32BE(o);
  }
  t.equal(o, full.length, 'frames tile the file');
  let checked = 0;
  // cut === last is a clean end (no warning); every other cut tears the record
  for (let cut = last; cut < full.length; cut++) {
    const dir = join(src, `cut-${cut}`);
    mkdirSync(join(dir, 'tracing'), { recursive: true });
    copyFileSync(join(src, META_FILE), join(dir, META_FILE));
    writeFileSync(join(dir, 'tracing', seg), full.subarray(0, cut));
    const warnings: unknown[] = [];
    const r = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner, logger: { info() {}, debug() {}, error() {}, warn: (m) => warnings.push(m) } });
    await r.open();
    const sth = await r.sth('tracing');
    const okState = sth?.treeSize === before.treeSize && Buffer.from(sth.rootHash).equals(Buffer.from(before.rootHash));
    const idem = (await r.get('tracing', receiptOf((await r.append('tracing', [batch('t0', 2)]))[0]).entryHash)) !== undefined;
    const rep = await r.verify();
    const fresh = receiptOf((await r.append('tracing', [batch(`new${cut}`)]))[0]);
    const rep2 = await r.verify();
    await r.close();
    if (okState && idem && rep.ok && rep2.ok && fresh.leafIndex === before.treeSize && warnings.length === (cut > last ? 1 : 0)) checked++;
    else
      t.fail(`cut at ${cut}: state ${okState}, verify ${rep.problem ?? 'ok'} / ${rep2.problem ?? 'ok'}, leaf ${fresh.leafIndex}, warnings ${warnings.length}`);
  }
  t.equal(checked, full.length - last, `all ${full.length - last} cut points recovered`);
});

t.test('a flipped byte inside an earlier record refuses to open', async (t) => {
  const dir = t.testdir();
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner });
  await l.open();
  for (let i = 0; i < 3; i++) await l.append('tracing', [batch(`m${i}`)]);
  await l.close();
  const file = join(dir, 'tracing', readdirSync(join(dir, 'tracing'))[0]);
  const buf = readFileSync(file);
  buf[40] ^= 1;
  writeFileSync(file, buf);
  await t.rejects(new EmbeddedLedger({ now: hostNow, dir, signer: testSigner }).open(), { code: 'E_CHECKSUM' });
});
