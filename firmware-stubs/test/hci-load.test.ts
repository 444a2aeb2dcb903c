/** 40 real hosts (20 bleno + 20 noble) on 40 PTYs and one air, briefly. */
import t from 'tap';
import { runLoad } from './fixtures/load.ts';

t.test('20 bleno + 20 noble on one air', async (t) => {
  const r = await runLoad({ pairs: 20, seconds: 5, advIntervalMs: 100, log: (m) => t.comment(m) });
  t.comment(JSON.stringify(r));
  t.equal(r.hosts, 40);
  t.equal(r.minSeen, 20, 'every noble discovered every bleno');
  t.ok(r.discoversPerSec > 0.3 * r.expectedPerSec, `discover rate ${r.discoversPerSec.toFixed(0)}/s vs model ${r.expectedPerSec.toFixed(0)}/s`);
  t.equal(r.hciErrors, 0);
});
