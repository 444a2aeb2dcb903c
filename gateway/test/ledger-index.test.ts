// The persisted chain index (gateway/src/ledger/index-file.ts, recover.ts): used when it
// checks out, caught up when the log grew after it was written, discarded and rebuilt
// when torn, altered or no longer matching the segments; never a different state.
import t from 'tap';

type T = Pick<typeof t, 'equal' | 'ok'>;
import { existsSync, unlinkSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { toHex } from '@beepkit/protocol';
import { EmbeddedLedger, type Receipt } from '../src/ledger/index.ts';
import { batch, receiptOf, testSigner } from './ledger-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

interface Log {
  warn: string[];
  /** Blocks read from the segments, per open (0: the index covered everything). */
  loaded: number;
}

function logger(log: Log): { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(): void; debug(): void } {
  return {
    info: (o, m) => {
      if (m === 'ledger: blocks read from the segments at open') log.loaded += (o as { blocks: number }).blocks;
    },
    warn: (_o, m) => log.warn.push(String(m)),
    error() {},
    debug() {},
  };
}

async function openLedger(dir: string, log: Log = { warn: [], loaded: 0 }): Promise<EmbeddedLedger> {
  const l = new EmbeddedLedger({ now: hostNow, dir, signer: testSigner, segmentBytes: 8192, logger: logger(log) });
  await l.open();
  return l;
}

/** Appends `n` entries of 6 keys, 2 per call; returns their receipts. */
async function fill(l: EmbeddedLedger, tag: string, n: number): Promise<Receipt[]> {
  const out: Receipt[] = [];
  for (let i = 0; i < n; i += 2) out.push(...(await l.append('tracing', [batch(`${tag}${i}`, 6), batch(`${tag}${i + 1}`, 6)])).map(receiptOf));
  return out;
}

/** Everything a reader sees: tree head, every entry by hash and by each key, the next leaf. */
async function same(t: T, l: EmbeddedLedger, receipts: Receipt[], tags: string[], what: string): Promise<void> {
  const sth = (await l.sth('tracing'))!;
  t.equal(sth.treeSize, receipts.length, `${what}: tree size`);
  let ok = 0;
  for (let i = 0; i < receipts.length; i++) {
    const e = await l.get('tracing', receipts[i].entryHash);
    const b = batch(tags[i], 6);
    const byKey = await Promise.all(b.keys!.map((k) => l.getByKey('tracing', k)));
    if (e?.leafIndex === receipts[i].leafIndex && byKey.every((x) => x?.leafIndex === receipts[i].leafIndex)) ok++;
  }
  t.equal(ok, receipts.length, `${what}: every entry found by hash and by each of its keys`);
  const p = await l.proof('tracing', receipts[0].entryHash);
  t.ok(p && Buffer.from(p.sth.rootHash).equals(Buffer.from(sth.rootHash)), `${what}: proofs against the head`);
  t.ok((await l.verify()).ok, `${what}: verify`);
}

const tagsOf = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

t.test('a clean reopen reads the index, no record', async (t) => {
  const dir = t.testdir();
  let l = await openLedger(dir);
  const rs = await fill(l, 'a', 40);
  const sth = await l.sth('tracing');
  await l.close();
  t.ok(existsSync(join(dir, 'tracing', 'index')), 'index written at close');
  t.ok(readdirSync(join(dir, 'tracing')).filter((f) => f.endsWith('.seg')).length > 2, 'several segments');
  const log: Log = { warn: [], loaded: 0 };
  l = await openLedger(dir, log);
  t.equal(log.loaded, 0, 'no block read from the segments');
  t.same(log.warn, []);
  t.same(await l.sth('tracing'), sth, 'same tree head');
  await same(t, l, rs, tagsOf('a', 40), 'from the index');
  const [dup] = await l.append('tracing', [batch('a3', 6)]);
  t.same(dup, rs[3], 'a replay gets its original receipt');
  const next = receiptOf((await l.append('tracing', [batch('after', 6)]))[0]);
  t.equal(next.leafIndex, 40, 'appends continue');
  await l.close();
});

t.test('a stale index (the log grew after it was written) is caught up, not trusted blindly', async (t) => {
  const dir = t.testdir();
  let l = await openLedger(dir);
  const rs = await fill(l, 's', 20);
  await l.close();
  const old = readFileSync(join(dir, 'tracing', 'index'));
  l = await openLedger(dir);
  rs.push(...(await fill(l, 't', 30)));
  const sth = await l.sth('tracing');
  await l.close();
  writeFileSync(join(dir, 'tracing', 'index'), old); // as after a kill -9: the index of 20 entries, the log of 50
  const log: Log = { warn: [], loaded: 0 };
  l = await openLedger(dir, log);
  t.equal(log.loaded, 15, 'only the 15 blocks written after the index were read');
  t.same(log.warn, [], 'growth is not a warning');
  t.same(await l.sth('tracing'), sth, 'same tree head');
  await same(t, l, rs, [...tagsOf('s', 20), ...tagsOf('t', 30)], 'caught up');
  await l.close();
  const again: Log = { warn: [], loaded: 0 };
  l = await openLedger(dir, again);
  t.equal(again.loaded, 0, 'the catch-up rewrote the index');
  await l.close();
});

t.test('a torn or altered index is detected and rebuilt', async (t) => {
  const dir = t.testdir();
  let l = await openLedger(dir);
  const rs = await fill(l, 'x', 24);
  const sth = await l.sth('tracing');
  await l.close();
  const file = join(dir, 'tracing', 'index');
  const good = readFileSync(file);
  const cuts = fc.sample(fc.integer({ min: 0, max: good.length - 1 }), { seed: 18, numRuns: 12 });
  const flips = fc.sample(fc.integer({ min: 0, max: good.length - 1 }), { seed: 81, numRuns: 12 });
  const cases = [
    ...cuts.map((c) => ({ what: `cut at ${c}`, bytes: good.subarray(0, c) })),
    ...flips.map((f) => ({ what: `flip at ${f}`, bytes: Buffer.from(good).fill(good[f] ^ 0x10, f, f + 1) })),
  ];
  let ok = 0;
  for (const c of cases) {
    writeFileSync(file, c.bytes);
    const log: Log = { warn: [], loaded: 0 };
    l = await openLedger(dir, log);
    const head = await l.sth('tracing');
    await l.close();
    if (log.loaded === 12 && log.warn.length === 1 && /index unusable/.test(log.warn[0]) && head && toHex(head.rootHash) === toHex(sth!.rootHash)) ok++;
    else t.fail(`${c.what}: loaded ${log.loaded}, warnings ${JSON.stringify(log.warn)}`);
  }
  t.equal(ok, cases.length, `all ${cases.length} torn or flipped indexes rebuilt to the same state`);
  t.ok(readFileSync(file).equals(good), 'the rebuilt index is written again, byte for byte (same state)');
  l = await openLedger(dir);
  await same(t, l, rs, tagsOf('x', 24), 'after the rebuilds');
  await l.close();
});

t.test('an index that no longer matches the segments is discarded', async (t) => {
  const dir = t.testdir();
  let l = await openLedger(dir);
  const rs = await fill(l, 'm', 40);
  await l.close();
  const segs = readdirSync(join(dir, 'tracing')).filter((f) => f.endsWith('.seg'));
  // a sealed segment touched since (same bytes, new mtime): not trusted, rebuilt
  const first = join(dir, 'tracing', segs[0]);
  const st = statSync(first);
  utimesSync(first, st.atime, new Date(st.mtimeMs + 5000));
  let log: Log = { warn: [], loaded: 0 };
  l = await openLedger(dir, log);
  t.match(log.warn, [/index does not match the segments.*changed since the index was written/], 'warned');
  t.equal(log.loaded, 20, 'rebuilt from every record');
  await same(t, l, rs, tagsOf('m', 40), 'after the rebuild');
  await l.close();
  // a flipped byte in a covered record of the last segment: the rebuild refuses to open, as without an index
  const last = join(dir, 'tracing', segs[segs.length - 1]);
  const buf = readFileSync(last);
  buf[40] ^= 1;
  writeFileSync(last, buf);
  log = { warn: [], loaded: 0 };
  await t.rejects(openLedger(dir, log), { code: 'E_CHECKSUM' });
  t.match(log.warn, [/index does not match the segments/]);
  // a segment file removed: the index names a segment the disk lacks; the same state as opening without the index
  buf[40] ^= 1;
  writeFileSync(last, buf);
  l = await openLedger(dir);
  await l.close();
  unlinkSync(last);
  log = { warn: [], loaded: 0 };
  l = await openLedger(dir, log);
  t.match(log.warn, [/index does not match the segments.*segment \d+ is not the one indexed/]);
  const withIndex = await l.sth('tracing');
  await l.close();
  unlinkSync(join(dir, 'tracing', 'index'));
  l = await openLedger(dir);
  t.same(await l.sth('tracing'), withIndex, 'same state as without an index');
  await l.close();
});

t.test('a log cut back and re-grown (same length, other tail bytes, or shorter) is never read through the stale index', async (t) => {
  const dir = t.testdir();
  const segsOf = (): string[] => readdirSync(join(dir, 'tracing')).filter((f) => f.endsWith('.seg'));
  let l = await openLedger(dir);
  await fill(l, 'p', 16);
  await l.close();
  const segs = segsOf();
  const last = join(dir, 'tracing', segs.at(-1)!);
  const prefix = readFileSync(last);
  l = await openLedger(dir);
  await fill(l, 'qa', 2);
  await l.close();
  const indexA = readFileSync(join(dir, 'tracing', 'index'));
  const logA = readFileSync(last);
  // cut the log back to the 16 entries (same file), drop the index, re-grow it by an entry of the same size
  writeFileSync(last, prefix);
  unlinkSync(join(dir, 'tracing', 'index'));
  l = await openLedger(dir);
  await fill(l, 'qb', 2);
  const sthB = await l.sth('tracing');
  await l.close();
  t.same(segsOf(), segs, 'no segment rolled: only the last segment changed');
  t.equal(statSync(last).size, logA.length, 'the re-grown log has the length the stale index covers');
  t.notOk(readFileSync(last).equals(logA), 'with other bytes in its tail');
  writeFileSync(join(dir, 'tracing', 'index'), indexA); // the index of the log before the cut
  let log: Log = { warn: [], loaded: 0 };
  l = await openLedger(dir, log);
  t.match(log.warn, [/index does not match the segments.*is not the indexed block \(tail block/], 'the tail block is not the indexed one: warned');
  t.same(await l.sth('tracing'), sthB, 'the tree head of the log on disk, rebuilt from every record');
  t.equal(log.loaded, 9, 'every block read');
  await l.close();
  // the log cut back inside what the index covers (the last record gone, a clean record boundary): rebuilt
  const buf = readFileSync(last);
  let o = 16;
  let lastStart = o;
  while (o < buf.length) {
    lastStart = o;
    o += 8 + buf.readUInt32BE(o);
  }
  writeFileSync(last, buf.subarray(0, lastStart));
  log = { warn: [], loaded: 0 };
  l = await openLedger(dir, log);
  t.match(log.warn, [/index does not match the segments.*ends before the indexed blocks/], 'shorter than covered: warned');
  const left = await l.sth('tracing');
  t.equal(left?.treeSize, 16, 'the 16 entries left on disk, from a rebuild');
  t.ok((await l.verify()).ok, 'verify');
  await l.close();
});
