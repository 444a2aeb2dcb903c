// The proximity feed (issue 21): bounded rate and memory, local ids or given names, never an RPI;
// its routes refuse bad input; the venue watch asks at most once per venue per gap.
import t from 'tap';
import { ProximityFeed, feedRoute } from '../src/app/proximity-feed.ts';
import { VenueWatch } from '../src/app/venue-watch.ts';
import { silentLogger } from '../src/alerts/logger.ts';

const RPI_A = '0123456789abcdef0123456789abcdef';
const RPI_B = 'fedcba9876543210fedcba9876543210';

function feed(o: Partial<ConstructorParameters<typeof ProximityFeed>[0]> = {}) {
  let mono = 0;
  const f = new ProximityFeed({
    mono: () => mono,
    edges: [63, 73, 79],
    windowsOf: (k) => (k === RPI_A ? [{ start: 1000, end: 61_000, msByBucket: [60_000, 0, 0, 0] }] : undefined),
    ...o,
  });
  return { f, tick: (ms: number) => (mono += ms) };
}

t.test('samples: local ids, rate per peer and in all, ring bound, cursor', async (t) => {
  const { f, tick } = feed({ maxSamples: 8, minGapMs: 250, perSecond: 10 });
  f.observe(RPI_A, -60, -61.23, 53.77, 1000);
  f.observe(RPI_A, -61, -61, 53, 1100); // same peer within 250 ms: skipped
  f.observe(RPI_B, -80, -79, 71, 1100);
  t.same(f.counters, { samples: 2, skippedGap: 1, skippedRate: 0, peersDropped: 0 });
  const r = f.read(0);
  t.same(
    r.samples,
    [
      { peer: 'p1', t: 1000, raw: -60, rssi: -61.2, att: 53.8 },
      { peer: 'p2', t: 1100, raw: -80, rssi: -79, att: 71 },
    ],
    'local ids, one decimal',
  );
  t.same(
    r.peers.map((p) => p.label),
    ['p1', 'p2'],
  );
  t.same(r.peers[0]!.windows, [{ start: 1000, end: 61_000, msByBucket: [60_000, 0, 0, 0] }], 'the exposure windows of the peer');
  t.same(r.edges, [63, 73, 79]);
  t.equal(r.next, 2);
  t.notMatch(JSON.stringify(r), new RegExp(`${RPI_A}|${RPI_B}`), 'no RPI in a read');
  t.same(f.read(2).samples, [], 'nothing after the cursor');
  // the global bound: 10 a second
  for (let i = 0; i < 40; i++) {
    tick(300);
    for (let k = 0; k < 20; k++) f.observe(`${k}`.padStart(32, '0'), -70, -70, 62, 2000 + i);
  }
  t.ok(f.counters.samples <= 2 + 10 + 12 * 1 + 40 * 3 + 1, `at most ~10/s in all (${f.counters.samples} in 12 s)`);
  t.ok(f.counters.skippedRate > 0, 'the rest is counted as skipped');
  const late = f.read(0);
  t.ok(late.lost, 'a cursor behind the ring is told so');
  t.equal(late.samples.length, 8, 'the ring holds maxSamples');
});

t.test('peers are bounded; names label peers only with a valid entry', async (t) => {
  const { f, tick } = feed({ maxPeers: 3, minGapMs: 0, perSecond: 1000 });
  for (let i = 0; i < 5; i++) {
    tick(10);
    f.observe(`${i}`.padStart(32, 'a'), -70, -70, 62, i);
  }
  t.equal(f.peerCount, 3);
  t.equal(f.counters.peersDropped, 2);
  f.observe(RPI_B, -50, -50, 42, 10);
  t.equal(f.setNames([{ rpi: RPI_B, name: 'Bob' }]), 1);
  t.equal(f.read(0).peers.find((p) => p.id === 'p6')?.label, 'Bob', 'the name given for its RPI');
  for (const bad of [
    undefined,
    'x',
    [{ rpi: 'zz', name: 'Bob' }],
    [{ rpi: RPI_A.toUpperCase(), name: 'Bob' }],
    [{ rpi: RPI_A, name: '' }],
    [{ rpi: RPI_A, name: '<script>' }],
    [{ rpi: RPI_A, name: 'x'.repeat(41) }],
    new Array(4).fill({ rpi: RPI_A, name: 'A' }),
  ]) {
    t.throws(() => f.setNames(bad), { code: 'E_FORMAT' }, `refused: ${JSON.stringify(bad)?.slice(0, 40)}`);
  }
});

t.test('routes: cursor format, names only in a simulated trial, off → 404', async (t) => {
  const { f } = feed();
  f.observe(RPI_A, -60, -60, 52, 5);
  t.equal(((await feedRoute(f, false, 'GET', '/proximity/since/0', {}))!.body as { samples: unknown[] }).samples.length, 1);
  for (const bad of ['/proximity/since/-1', '/proximity/since/1e3', '/proximity/since/', '/proximity/since/9999999999999999']) {
    await t.rejects(feedRoute(f, false, 'GET', bad, {}), { code: 'E_FORMAT' }, bad);
  }
  await t.rejects(feedRoute(f, false, 'POST', '/proximity/names', { names: [] }), { code: 'E_STATE' }, 'names refused on a real clock');
  t.same((await feedRoute(f, true, 'POST', '/proximity/names', { names: [{ rpi: RPI_A, name: 'Alice' }] }))!.body, { names: 1 });
  await t.rejects(feedRoute(f, true, 'POST', '/proximity/names', null), { code: 'E_FORMAT' });
  await t.rejects(feedRoute(undefined, true, 'GET', '/proximity/since/0', {}), { code: 'E_NOT_FOUND' });
  t.equal(await feedRoute(f, true, 'GET', '/carer', {}), undefined, 'other paths pass on');
});

t.test('venue watch: one query per venue per gap, one at a time, the last heard on status', async (t) => {
  let now = 0;
  const asked: string[] = [];
  let answer: (v: { state: string; sinceMs: number }) => void = () => {};
  const w = new VenueWatch({
    query: (id) => (asked.push(id), new Promise((r) => (answer = r))),
    now: () => now,
    nameOf: (id) => (id === 'aaaaaaaaaaaa' ? 'Café' : undefined),
    logger: silentLogger,
    minGapMs: 60_000,
  });
  t.equal(w.status(), undefined, 'nothing heard yet');
  w.heard('aaaaaaaaaaaa');
  w.heard('aaaaaaaaaaaa');
  w.heard('bbbbbbbbbbbb');
  t.same(asked, ['aaaaaaaaaaaa'], 'one in flight');
  answer({ state: 'infected', sinceMs: 5 });
  await new Promise((r) => setImmediate(r));
  w.heard('aaaaaaaaaaaa');
  t.same(asked, ['aaaaaaaaaaaa'], 'not again within the gap');
  t.match(w.status(), { venue: 'Café', state: 'infected', sinceMs: 5, queries: 1, failures: 0 });
  now = 61_000;
  w.heard('aaaaaaaaaaaa');
  t.equal(asked.length, 2, 'again after the gap');
});
