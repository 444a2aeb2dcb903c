// The ledger bench's large open stage: skipped, with the reason, where the machine cannot hold it.
import t from 'tap';
import { largeOpenSkip, OPEN_BYTES_PER_ENTRY, sizeLabel } from '../ledger.ts';

t.test('the 10 M stage runs only with the disk and memory it needs, and says which is missing', async (t) => {
  const n = 10_000_000;
  t.equal(largeOpenSkip(n, 80e9, 24e9), undefined, '80 GB free, 24 GB of memory: runs');
  t.match(largeOpenSkip(n, 30e9, 24e9), /needs 40 GB free in .*, has 30 GB/, 'too little disk');
  t.match(largeOpenSkip(n, 80e9, 8e9), /needs 12 GB of memory, has 8 GB/, 'too little memory (a Pi)');
  t.equal(largeOpenSkip(1000, n * OPEN_BYTES_PER_ENTRY.disk, 1e9), undefined, 'small sizes fit anywhere');
});

t.test('metric names carry the size', async (t) => {
  t.equal(sizeLabel(10_000_000), '10m');
  t.equal(sizeLabel(1_000_000), '1m');
  t.equal(sizeLabel(50_000), '50k');
  t.equal(sizeLabel(12_345), '12345');
});
