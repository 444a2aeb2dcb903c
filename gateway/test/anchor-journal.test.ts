/** The anchor journal: a torn last line (kill -9 inside a write) is cut; the one unresolved transaction survives reopening. */
import t from 'tap';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnchorJournal } from '../src/anchor/journal.ts';

t.test('torn tail, pending transaction, compaction at open', async (t) => {
  const path = join(t.testdir(), 'anchor', 'journal');
  const j = new AnchorJournal(path).open();
  const sent = (n: number) => ({
    t: 'sent' as const,
    hash: `0x${String(n).padStart(64, '0')}` as `0x${string}`,
    raw: '0x00' as `0x${string}`,
    nonce: n,
    heads: [{ chain: 'tracing', treeSize: n, blockHeight: n - 1 }],
  });
  j.append(sent(1));
  j.append({ t: 'done', hash: sent(1).hash, status: 'success', gasUsed: '43062', block: '5' });
  j.append(sent(2));
  j.close();
  appendFileSync(path, '{"t":"done","hash":"0x00'); // torn: the process died inside this write
  const k = new AnchorJournal(path).open();
  t.equal(k.pending?.hash, sent(2).hash, 'the journalled, unresolved transaction is pending after the restart');
  t.equal(k.completed, 1);
  t.same(
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).t),
    ['count', 'sent'],
    'rewritten compactly, the torn line gone',
  );
  k.append({ t: 'dropped', hash: sent(2).hash });
  k.close();
  const m = new AnchorJournal(path).open();
  t.equal(m.pending, undefined, 'resolved (dropped) stays resolved');
  t.equal(m.completed, 1);
  m.close();
});
