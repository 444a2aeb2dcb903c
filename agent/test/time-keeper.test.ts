/**
 * TimeKeeper, the agent's time policy (agent/src/time/keeper.ts), on injected
 * host, monotonic and NTP: which source it trusts, when it corrects to GNSS
 * time, and what one outlier fix cannot do.
 */
import t from 'tap';
import { TimeKeeper, BUILD_DATE_MS } from '../src/time/index.ts';
import { TimeBacklog } from '../src/time/backlog.ts';

const TRUE = Date.UTC(2026, 11, 3, 14, 0);
const silent = { info() {}, warn() {}, error() {}, debug() {} };

function keeper(o: { skew?: number; ntp?: boolean; require?: 'auto' | 'ntp' | 'gnss'; host?: number } = {}) {
  let mono = 0;
  const warns: object[] = [];
  const k = new TimeKeeper({
    host: () => (o.host ?? TRUE + (o.skew ?? 0)) + mono,
    mono: () => mono,
    require: o.require,
    probes: { ntpSynchronized: async () => o.ntp },
    logger: { ...silent, warn: (x: object) => void warns.push(x) },
  });
  return {
    k,
    warns,
    advance: (ms: number) => (mono += ms),
    fix: (gnssMs: number, mode = 3) => k.observeGnss({ timeMs: gnssMs, receivedAt: k.now(), mode, status: 1 }),
  };
}

t.test('sources: host that cannot say, NTP, not synchronised, before the build date, require', async (t) => {
  const a = keeper();
  await a.k.start();
  t.match(a.k.status(), { source: 'host', trusted: true }, 'no word either way: the host (auto)');
  const b = keeper({ ntp: true });
  await b.k.start();
  t.match(b.k.status(), { source: 'ntp', trusted: true });
  const c = keeper({ ntp: false });
  await c.k.start();
  t.match(c.k.status(), { source: 'unknown', trusted: false, code: 'E_TIME_UNTRUSTED' });
  const d = keeper({ ntp: true, host: BUILD_DATE_MS - 1000 });
  await d.k.start();
  t.match(d.k.status(), { source: 'unknown', trusted: false, reason: /build date/ });
  const e = keeper({ ntp: true, require: 'gnss' });
  await e.k.start();
  t.match(e.k.status(), { trusted: false }, 'require gnss: NTP is not enough');
  e.fix(TRUE + 50);
  t.match(e.k.status(), { source: 'gnss', trusted: true, offsetMs: 0 }, 'GNSS time within the bound: no correction');
  const f = keeper({ require: 'ntp' });
  await f.k.start();
  t.match(f.k.status(), { trusted: false }, 'require ntp: a host that cannot say is not enough');
  for (const x of [a, b, c, d, e, f]) x.k.stop();
});

t.test('a correction needs 3 agreeing fixes; one outlier moves nothing; logged once', async (t) => {
  const { k, warns, advance, fix } = keeper({ skew: 3 * 3_600_000, ntp: false });
  fix(TRUE);
  advance(1000);
  fix(TRUE + 1000);
  t.equal(k.status().corrections, 0, 'two fixes: not yet');
  advance(1000);
  fix(TRUE + 2000 + 7 * 3_600_000); // an outlier breaks the run
  advance(1000);
  fix(TRUE + 3000);
  t.equal(k.status().corrections, 0, 'the outlier restarted the count');
  advance(1000);
  fix(TRUE + 4000);
  advance(1000);
  fix(TRUE + 5000);
  t.equal(k.status().corrections, 1, 'three agreeing fixes: corrected');
  t.equal(k.now(), TRUE + 5000, 'now() is GNSS time');
  t.equal(k.status().offsetMs, -3 * 3_600_000);
  advance(1000);
  fix(TRUE + 6000);
  t.equal(k.status().corrections, 1, 'agreeing fixes after: no new correction');
  t.equal(warns.length, 1, 'logged once');
  t.same(Object.keys(warns[0]).sort(), ['corrections', 'offsetS'], 'the log carries the offset only');
  fix(TRUE, 1);
  t.equal(k.status().gnssDeltaMs, 0, 'a fix without mode ≥ 2 carries no time');
});

t.test('GNSS time stops vouching after an hour without it', async (t) => {
  const { k, advance, fix } = keeper({ ntp: false });
  await k.start();
  fix(TRUE);
  t.equal(k.status().source, 'gnss');
  advance(3_600_001);
  t.match(k.status(), { source: 'unknown', trusted: false });
  k.stop();
});

t.test('backlog: one tick per 10 s, bounded; true times from the monotonic age; waits and drops', async (t) => {
  let mono = 0;
  const b = new TimeBacklog<number>(() => mono, 10_000, 3);
  for (let i = 0; i < 50; i++) {
    b.push(1000 + mono, i);
    mono += 1000;
  }
  t.equal(b.size, 3, 'bounded');
  t.equal(b.dropped, 2, 'the oldest dropped, counted');
  const good = 5_000_000;
  const first = b.take(good, () => 'wait');
  t.same(first, [], 'wait keeps everything');
  const out = b.take(good, (at) => (at < good - 15_000 ? 'drop' : 'now'));
  t.equal(out.length, 1);
  t.equal(out[0].trueAt, good - (mono - 40_000), 'true time = now − monotonic age');
  t.equal(out[0].shift, out[0].trueAt - (1000 + 40_000));
  t.equal(b.dropped, 4);
  t.equal(b.size, 0);
});
