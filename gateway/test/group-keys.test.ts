// GroupKeys (gateway/src/ledger/group-keys.ts), the commit group's key table: against a model (a stack of the keys
// added and a Set of them), through adds, duplicates, truncations and growth, with few tags (many collisions, keys
// told apart by their bytes).
import t from 'tap';
import fc from 'fast-check';
import { GroupKeys } from '../src/ledger/group-keys.ts';

const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');

t.test('add refuses exactly the keys held; truncate gives back the last added; tags stay in order', async (t) => {
  let most = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          { weight: 20, arbitrary: fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: 20_000 }) }) },
          { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 10 }) }) },
        ),
        { minLength: 5_000, maxLength: 12_000 },
      ),
      (ops) => {
        const g = new GroupKeys();
        const stack: { tag: number; key: string }[] = [];
        const held = new Set<string>();
        for (const o of ops) {
          if (o.op === 'add') {
            const k = new Uint8Array(4);
            new DataView(k.buffer).setUint32(0, o.key);
            // a key's tag must be a function of its bytes (as tagOf is): derive it from the key, keep few tags
            const tag = (o.key % 40) + 1;
            const had = held.has(hex(k));
            if (g.add(tag, k) === had) return false;
            if (!had) {
              stack.push({ tag, key: hex(k) });
              held.add(hex(k));
            }
          } else {
            const n = Math.max(0, stack.length - o.back);
            g.truncate(n);
            for (const s of stack.splice(n)) held.delete(s.key);
          }
          if (g.count !== stack.length) return false;
          most = Math.max(most, stack.length);
        }
        return stack.every((s, i) => g.tag(i) === s.tag);
      },
    ),
    { seed: 18, numRuns: 20 },
  );
  t.ok(most > 4096, `the table grew (${most} keys held at most)`);
});

t.test('clear empties the group, also after growth', async (t) => {
  const g = new GroupKeys();
  const keys = Array.from({ length: 10_000 }, (_, i) => Uint8Array.of(i >>> 16, i >>> 8, i));
  t.ok(
    keys.every((k) => g.add((k[2] % 97) + 1, k)),
    'every key is new',
  );
  t.equal(g.count, 10_000);
  t.notOk(g.add((keys[123][2] % 97) + 1, keys[123]), 'a held key is refused');
  g.clear();
  t.equal(g.count, 0);
  t.ok(
    keys.every((k) => g.add((k[2] % 97) + 1, k)),
    'every key is new again after clear',
  );
});
