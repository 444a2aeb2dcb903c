// TagIndex (gateway/src/ledger/tag-index.ts): every (tag, value) pair inserted is found, in the delta table, in the
// sorted run after compact(), and after a round trip through its persisted state; absent pairs are not.
import t from 'tap';
import fc from 'fast-check';
import { TagIndex, dirBitsFor } from '../src/ledger/tag-index.ts';

/** Every value stored under `tag` (find with a confirm that collects and refuses). */
function valuesOf(ix: TagIndex, tag: number): number[] {
  const seen: number[] = [];
  ix.find(tag, (v) => {
    seen.push(v);
    return false;
  });
  return seen.sort((a, b) => a - b);
}

t.test('pairs are found before and after compaction and a persisted round trip', async (t) => {
  // tags from a small range (many collisions, the top and bottom of the 32-bit space included), values unique
  const tags = fc.sample(fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 0xffffffff, 0x80000000), fc.integer({ min: 1, max: 0xffffffff })), {
    seed: 18,
    numRuns: 5000,
  });
  const ix = new TagIndex();
  const want = new Map<number, number[]>();
  let bad = 0;
  const check = (what: string): void => {
    for (const [tag, vs] of want) if (valuesOf(ix, tag).join() !== [...vs].sort((a, b) => a - b).join()) bad++;
    t.equal(bad, 0, `${what}: every tag gives exactly its values`);
    t.equal(
      ix.find(0x12345678, () => true),
      want.has(0x12345678) ? want.get(0x12345678)![0] : -1,
      `${what}: an absent tag finds nothing`,
    );
  };
  tags.forEach((tag, i) => {
    ix.insert(tag, i);
    want.set(tag, [...(want.get(tag) ?? []), i]);
    if (i === 1999) {
      check('in the delta');
      ix.compact();
      check('after a first compaction');
    }
  });
  t.equal(ix.pending, tags.length - 2000, 'later pairs wait in the delta');
  check('run + delta');
  ix.compact();
  t.equal(ix.pending, 0);
  check('after the second compaction');
  const s = ix.state();
  t.equal(s.bits, dirBitsFor(tags.length), 'directory sized for the count');
  const back = TagIndex.from(new Uint32Array(s.run), s.runCount, s.bits, new Uint32Array(s.dir));
  let same = 0;
  for (const [tag, vs] of want) if (valuesOf(back, tag).join() === [...vs].sort((a, b) => a - b).join()) same++;
  t.equal(same, want.size, 'the persisted state finds the same');
  t.equal(
    back.find(tags[7], (v) => v === 7),
    7,
    'the confirmed value is returned',
  );
});

t.test('a stored state that does not fit is refused with E_FORMAT', async (t) => {
  t.throws(() => TagIndex.from(new Uint32Array(4), 2, 4, new Uint32Array(16)), { code: 'E_FORMAT' }, 'directory of the wrong length');
  t.throws(() => TagIndex.from(new Uint32Array(4), 2, 4, new Uint32Array(17)), { code: 'E_FORMAT' }, 'directory not ending at the count');
  t.throws(
    () =>
      TagIndex.from(
        new Uint32Array(2),
        2,
        4,
        Uint32Array.from({ length: 17 }, (_, i) => (i === 16 ? 2 : 0)),
      ),
    { code: 'E_FORMAT' },
    'run shorter than its count',
  );
  const x = new TagIndex();
  x.insert(5, 1);
  t.throws(() => x.state(), { code: 'E_STATE' }, 'state() with pairs outside the run');
});
