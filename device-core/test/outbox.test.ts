import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Outbox, crc32c } from '../src/outbox/index.ts';
import { BeepkitError } from '@beepkit/protocol/errors';
import { recordHash } from '@beepkit/protocol/tracecode';

const here = dirname(fileURLToPath(import.meta.url));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const names = (ob: Outbox): string[] => ob.pending().map((p) => dec(p.bytes));

function capture(): {
  lines: string[];
  logger: { info: () => void; debug: () => void; warn: (o: unknown, m?: string) => void; error: (o: unknown, m?: string) => void };
} {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      info: () => {},
      debug: () => {},
      warn: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
      error: (o, m) => lines.push(`${m} ${JSON.stringify(o)}`),
    },
  };
}

t.test('crc32c known answer', async (t) => {
  t.equal(crc32c(enc('123456789')), 0xe3069283);
});

t.test('append, reopen, ack', async (t) => {
  const path = join(t.testdir(), 'ob');
  const ob = new Outbox({ path });
  await ob.start();
  const r = await ob.append([enc('a'), enc('b'), enc('a')]);
  t.equal(r.accepted, 2);
  t.equal(r.duplicates, 1);
  t.same(r.ids[0], recordHash(enc('a')), 'ids are protocol record hashes');
  t.equal((await ob.append([enc('b')])).duplicates, 1, 'an already pending item is a duplicate');
  await ob.stop();
  const ob2 = new Outbox({ path });
  await ob2.start();
  t.same(names(ob2), ['a', 'b']);
  t.equal(await ob2.ackItems([r.ids[0]]), 1);
  await ob2.stop();
  const ob3 = new Outbox({ path });
  await ob3.start();
  t.same(names(ob3), ['b']);
  await ob3.stop();
});

t.test('torn tail: truncation at every offset of the last record keeps everything before it', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'ob');
  const ob = new Outbox({ path });
  await ob.start();
  await ob.append([enc('first')]);
  await ob.append([enc('second')]);
  const before = ob.stats().fileBytes;
  await ob.append([enc('third-' + 'z'.repeat(40))]);
  const full = ob.stats().fileBytes;
  await ob.stop();
  const bytes = readFileSync(path);
  t.equal(bytes.length, full);
  let ok = 0;
  for (let cut = before; cut < full; cut++) {
    const p = join(dir, `cut-${cut}`);
    writeFileSync(p, bytes.subarray(0, cut));
    const o = new Outbox({ path: p });
    await o.start();
    if (names(o).join(',') === 'first,second' && o.stats().tornBytesAtOpen === cut - before && statSync(p).size === before) ok++;
    // the file is usable again after the tail was dropped
    await o.append([enc('again')]);
    await o.stop();
    const o2 = new Outbox({ path: p });
    await o2.start();
    if (names(o2).join(',') !== 'first,second,again') t.fail(`reappend after cut ${cut}: ${names(o2)}`);
    await o2.stop();
  }
  t.equal(ok, full - before, 'every cut offset recovered exactly the earlier records');
  // a flipped bit in the last record is also caught (CRC)
  const flipped = Buffer.from(bytes);
  flipped[full - 3] ^= 0x40;
  const pf = join(dir, 'flipped');
  writeFileSync(pf, flipped);
  const of = new Outbox({ path: pf });
  await of.start();
  t.same(names(of), ['first', 'second']);
  await of.stop();
  // a file torn inside its header starts afresh
  const ph = join(dir, 'header');
  writeFileSync(ph, bytes.subarray(0, 5));
  const oh = new Outbox({ path: ph });
  await oh.start();
  t.same(names(oh), []);
  await oh.stop();
});

t.test('kill -9 of a child appending in a loop: every acknowledged item present exactly once', async (t) => {
  const path = join(t.testdir(), 'ob');
  const acked: string[] = [];
  let seed = 20261121;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let run = 0; run < 5; run++) {
    const killAt = 3 + Math.floor(rnd() * 40);
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures/outbox-writer.ts'), path, String(run), String(Math.floor(rnd() * 1e9))], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    let count = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ack ')) {
          acked.push(line.slice(4));
          if (++count === killAt) child.kill('SIGKILL');
        }
      }
    });
    const code = await new Promise<string | null>((res) => child.on('exit', (_c, sig) => res(sig)));
    t.equal(code, 'SIGKILL', `run ${run} killed after ${count} acks`);
  }
  const ob = new Outbox({ path });
  await ob.start();
  const got = names(ob).map((n) => n.split('|')[0]);
  const counts = new Map<string, number>();
  for (const n of got) counts.set(n, (counts.get(n) ?? 0) + 1);
  const missing = acked.filter((a) => counts.get(a) !== 1);
  t.same(missing, [], `all ${acked.length} acknowledged items present exactly once`);
  t.equal(new Set(got).size, got.length, 'no duplicates');
  await ob.stop();
});

t.test('bounded: refuse when full, counted and logged', async (t) => {
  const { lines, logger } = capture();
  const ob = new Outbox({ path: join(t.testdir(), 'ob'), maxItems: 3, logger });
  await ob.start();
  const r = await ob.append([enc('1'), enc('2'), enc('3'), enc('4')]);
  t.equal(r.accepted, 3);
  t.equal(r.refused, 1);
  t.equal(ob.stats().refused, 1);
  t.match(lines.join('\n'), /outbox: full.*"refused":1/);
  t.same(names(ob), ['1', '2', '3']);
  await ob.stop();
});

t.test('bounded: drop-oldest (by bytes), persisted', async (t) => {
  const path = join(t.testdir(), 'ob');
  const { lines, logger } = capture();
  const ob = new Outbox({ path, maxBytes: 30, whenFull: 'drop-oldest', logger });
  await ob.start();
  await ob.append([enc('a'.repeat(10)), enc('b'.repeat(10)), enc('c'.repeat(10))]);
  const r = await ob.append([enc('d'.repeat(15))]);
  t.equal(r.dropped, 2);
  t.equal(r.accepted, 1);
  t.match(lines.join('\n'), /"dropped":2/);
  t.equal(ob.stats().dropped, 2);
  t.equal((await ob.append([enc('e'.repeat(31))])).refused, 1, 'larger than the whole outbox: refused');
  await ob.stop();
  const ob2 = new Outbox({ path, maxBytes: 30, whenFull: 'drop-oldest' });
  await ob2.start();
  t.same(names(ob2), ['c'.repeat(10), 'd'.repeat(15)]);
  await ob2.stop();
});

t.test('batches are deterministic and persisted: a re-send after a crash has the same bytes', async (t) => {
  const path = join(t.testdir(), 'ob');
  const ob = new Outbox({ path, batchMaxItems: 3 });
  await ob.start();
  await ob.append([1, 2, 3, 4, 5].map((i) => ({ bytes: enc(`i${i}`), group: 7 })));
  await ob.append([{ bytes: enc('other-day'), group: 8 }]);
  const random = (items: Uint8Array[]): Uint8Array => new Uint8Array([...randomBytes(8), ...items.flatMap((x) => [...x])]);
  const b1 = await ob.nextBatch(random);
  t.ok(b1);
  t.same(b1!.items.map(dec), ['i1', 'i2', 'i3']);
  t.same((await ob.nextBatch(random))!.bytes, b1!.bytes, 'unacknowledged batch is handed out again');
  await ob.stop(); // "crash": no ack
  const ob2 = new Outbox({ path, batchMaxItems: 3 });
  await ob2.start();
  const again = await ob2.nextBatch(random);
  t.equal(again!.seq, b1!.seq);
  t.same(again!.bytes, b1!.bytes, 'same batch bytes after restart');
  t.equal(await ob2.ackBatch(again!.seq), 3);
  const b2 = await ob2.nextBatch();
  t.same(b2!.items.map(dec), ['i4', 'i5'], 'next batch: the rest of the same group');
  t.equal(await ob2.ackBatch(b2!.seq), 2);
  const b3 = await ob2.nextBatch();
  t.same(b3!.items.map(dec), ['other-day']);
  t.equal(b3!.group, 8);
  await ob2.ackBatch(b3!.seq);
  t.equal(await ob2.nextBatch(), undefined);
  t.equal(ob2.stats().delivered, 6);
  await ob2.stop();
});

t.test('compaction when delivered items dominate', async (t) => {
  const path = join(t.testdir(), 'ob');
  const ob = new Outbox({ path, compactMinBytes: 256, batchMaxItems: 10 });
  await ob.start();
  await ob.append(Array.from({ length: 40 }, (_, i) => enc(`item-${i}-${'p'.repeat(20)}`)));
  for (let i = 0; i < 3; i++) await ob.ackBatch((await ob.nextBatch())!.seq);
  t.ok(ob.stats().compactions >= 1, 'compacted');
  t.ok(statSync(path).size < 40 * 30, 'file shrank');
  await ob.nextBatch(); // an open batch survives compaction
  await ob.compact();
  await ob.stop();
  const ob2 = new Outbox({ path });
  await ob2.start();
  t.equal(ob2.pending().length, 10);
  t.equal(ob2.stats().openBatches, 1);
  await ob2.stop();
});

t.test('encrypted at rest', async (t) => {
  const path = join(t.testdir(), 'ob');
  const key = new Uint8Array(32).fill(9);
  const ob = new Outbox({ path, key });
  await ob.start();
  await ob.append([enc('SECRET-TRACECODE')]);
  await ob.nextBatch();
  await ob.stop();
  t.notOk(readFileSync(path).includes(Buffer.from('SECRET')), 'no plaintext on disk');
  const ob2 = new Outbox({ path, key });
  await ob2.start();
  t.same(names(ob2), ['SECRET-TRACECODE']);
  await ob2.stop();
  await t.rejects(new Outbox({ path, key: new Uint8Array(32).fill(1) }).start(), { code: 'E_DECRYPT' });
  await t.rejects(new Outbox({ path }).start(), { code: 'E_KEY' });
  t.throws(() => new Outbox({ path, key: new Uint8Array(5) }), BeepkitError);
});
