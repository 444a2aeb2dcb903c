// tagOf (gateway/src/ledger/table.ts), the 32-bit tag the chain's persisted index stores for every key and entry
// hash: murmur3_32's published vectors, and tags of structured keys (the ledger bench's: an entry number as a
// big-endian float64) spread as random ones do (TAG_VERSION 1, FNV over words, put 12 % of them on a taken tag).
import t from 'tap';
import { TAG_VERSION, tagOf } from '../src/ledger/table.ts';

t.test('murmur3_32 with seed 0 (0 becomes 1: a tag is never 0)', async (t) => {
  const enc = new TextEncoder();
  const vectors: [string, number][] = [
    ['', 1],
    ['test', 0xba6bd213],
    ['Hello, world!', 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
  ];
  for (const [s, want] of vectors) t.equal(tagOf(enc.encode(s)), want, JSON.stringify(s));
  const b = enc.encode('xxThe quick brown fox jumps over the lazy dogyy');
  t.equal(tagOf(b, 2, b.length - 2), 0x2e4ff723, 'a range of a larger buffer tags as its bytes alone');
  t.equal(TAG_VERSION, 2, 'the persisted index records the tag version (an index of version 1 is rebuilt)');
});

t.test('structured keys collide no more than random ones', async (t) => {
  const n = 400_000;
  const key = new Uint8Array(32);
  const dv = new DataView(key.buffer);
  const seen = new Set<number>();
  let collisions = 0;
  for (let i = 0; i < n / 28; i++) {
    for (let r = 0; r < 28; r++) {
      dv.setUint32(0, 1 << 30);
      dv.setFloat64(4, i);
      dv.setUint16(12, r);
      key[31] = 0x5a;
      const tag = tagOf(key);
      if (seen.has(tag)) collisions++;
      else seen.add(tag);
    }
  }
  // birthday expectation for n random 32-bit tags: n^2 / 2^33 = 18.6; FNV over words gave thousands here
  const expected = (n * n) / 2 ** 33;
  t.ok(collisions < expected * 3 + 10, `${collisions} colliding tags among ${n} keys (random: ~${expected.toFixed(1)})`);
});
