import t from 'tap';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TraceCodeSealer, decodeTraceCode, openTraceCode } from '@beepkit/protocol/tracecode';
import { X25519Key, Ed25519Signer } from '@beepkit/protocol/crypto';
import { Source, type Fix } from '@beepkit/protocol/geodata';
import { decidePublish, Publisher, type PublishInput } from '../src/publisher/index.ts';
import { Outbox } from '../src/outbox/index.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const day = 20_413;
const t0 = day * DAY + 9 * 3_600_000; // 09:00 UTC
const bytes = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest());
const fixAt = (now: number, lat = 52.2053, lon = 0.1218): Fix => ({
  start: Math.floor(now / 1000) - 60,
  end: Math.floor(now / 1000),
  lat,
  lon,
  accuracy: 8,
  sources: Source.gnss | Source.beacon,
});
const cert = { day, notBefore: day * 86_400, notAfter: (day + 1) * 86_400 - 1 };
const ok = (now: number, lat?: number): PublishInput => ({ now, fix: fixAt(now, lat), trusted: true, cert });
const cfg = { level: 'grid50' as const };

t.test('decision rules', async (t) => {
  const cases: [string, PublishInput, string][] = [
    ['no location', { now: t0, trusted: true, cert }, 'no-location'],
    ['stale location', { ...ok(t0), fix: fixAt(t0 - 31 * MIN) }, 'stale-location'],
    ['untrusted', { ...ok(t0), trusted: false }, 'untrusted'],
    ['no certificate', { ...ok(t0), cert: undefined }, 'no-certificate'],
    ['certificate for another day', { ...ok(t0), cert: { ...cert, day: day - 1 } }, 'certificate-invalid'],
    ['expired certificate', { ...ok(t0), cert: { ...cert, notAfter: Math.floor(t0 / 1000) - 1 } }, 'certificate-invalid'],
    ['all good', ok(t0), 'seal'],
  ];
  for (const [name, input, reason] of cases) t.equal(decidePublish(cfg, {}, input).reason, reason, name);
  const first = decidePublish(cfg, {}, ok(t0));
  const last = { day, interval: first.interval, cell: first.cell! };
  t.equal(first.interval, 18, '09:00 is the 19th half-hour');
  t.equal(decidePublish(cfg, { last }, ok(t0 + 10 * MIN, 52.3)).reason, 'already-sealed', 'one per interval even when moving');
  t.equal(decidePublish(cfg, { last }, ok(t0 + 30 * MIN)).reason, 'stationary', 'same cell next interval');
  t.equal(decidePublish(cfg, { last }, ok(t0 + 30 * MIN, 52.2053 + 0.00001)).reason, 'stationary', 'a metre away is the same 50 m cell');
  t.equal(decidePublish(cfg, { last }, ok(t0 + 30 * MIN, 52.21)).reason, 'seal', 'moved to another cell');
  t.equal(decidePublish({ ...cfg, intervalMs: 10 * MIN }, { last: { ...last, interval: 54 } }, ok(t0 + 10 * MIN, 52.21)).interval, 55, 'configurable interval');
  t.throws(() => decidePublish({ ...cfg, intervalMs: 7 * MIN }, {}, ok(t0)), { code: 'E_CONFIG' });
});

t.test('publisher seals with protocol and records in the outbox; logs carry no position', async (t) => {
  const solver = new X25519Key(bytes('solver'));
  const pseudonym = new Ed25519Signer(bytes('pseudonym-seed'));
  const sealer = new TraceCodeSealer({ prefix: pseudonym.publicKey, ephemeralPriv: bytes('ephemeral'), solverPub: solver.publicKey });
  const outbox = new Outbox({ path: join(t.testdir(), 'ob') });
  await outbox.start();
  const lines: string[] = [];
  const rec = (o: unknown, m?: string): number => lines.push(`${m} ${JSON.stringify(o)}`);
  const pub = new Publisher({
    config: cfg,
    seal: (_day, interval, g) => sealer.seal(interval, g),
    sink: (tc, d) => outbox.append([{ bytes: tc, group: d }]),
    logger: { info: rec, warn: rec, error: rec, debug: rec },
  });
  const route = [52.2053, 52.2053, 52.2053, 52.21, 52.22, 52.22];
  for (let i = 0; i < route.length; i++) await pub.tick(ok(t0 + i * 30 * MIN, route[i]));
  await pub.tick({ now: t0 + 6 * 30 * MIN, trusted: true, cert });
  t.same(pub.counts, { open: 3, seal: 2, stationary: 3, 'no-location': 1 }, 'the last stay is still open');
  await pub.flush();
  t.equal(pub.counts.seal, 3);
  const pending = outbox.pending();
  t.equal(pending.length, 3);
  t.ok(pending.every((p) => p.group === day));
  const tc = decodeTraceCode(pending[1].bytes);
  t.same(tc.prefix, pseudonym.publicKey);
  const g = openTraceCode(bytes('solver'), tc, sealer.ephemeralPub);
  t.ok(Math.abs(g.lat - 52.21) < 0.001 && g.lat !== 52.21, `generalised latitude ${g.lat}`);
  const text = lines.join('\n');
  t.notMatch(text, /52\.2|0\.12/, 'no coordinates in logs');
  t.notOk(text.includes(Buffer.from(pseudonym.publicKey).toString('hex')), 'no prefix in logs');
  await outbox.stop();
});

/** Opens every sealed TraceCode of a publisher run: interval and geodata window (Unix s). */
function harness(config: { level: 'grid50' | 'grid10'; intervalMs?: number; maxStayIntervals?: number }) {
  const solver = new X25519Key(bytes('solver'));
  const sealer = new TraceCodeSealer({ prefix: new Ed25519Signer(bytes('p')).publicKey, ephemeralPriv: bytes('e'), solverPub: solver.publicKey });
  const out: { day: number; interval: number; start: number; end: number; lat: number }[] = [];
  const pub = new Publisher({
    config,
    seal: (_d, i, g) => sealer.seal(i, g),
    sink: async (tc, d) => {
      const c = decodeTraceCode(tc);
      const g = openTraceCode(bytes('solver'), c, sealer.ephemeralPub);
      out.push({ day: d, interval: c.interval, start: g.start, end: g.end, lat: g.lat });
    },
  });
  return { pub, out };
}
const fixNow = (now: number, lat = 52.2053): Fix => ({
  start: Math.floor(now / 1000),
  end: Math.floor(now / 1000),
  lat,
  lon: 0.1218,
  accuracy: 8,
  sources: Source.gnss | Source.beacon,
});
const at = (now: number, lat?: number): PublishInput => ({ now, fix: fixNow(now, lat), trusted: true, cert });
const S = (ms: number): number => Math.floor(ms / 1000);

t.test('a stay is one TraceCode whose window covers the whole stay', async (t) => {
  const { pub, out } = harness({ level: 'grid50' });
  // 09:00–10:40 at one place (ticks every minute), then elsewhere
  for (let m = 0; m <= 100; m++) await pub.tick(at(t0 + m * MIN));
  t.equal(out.length, 0, 'nothing sealed while stationary');
  t.equal(pub.counts.stationary, 3, 'one decision per interval (09:30, 10:00, 10:30)');
  await pub.tick(at(t0 + 101 * MIN, 52.3));
  t.equal(out.length, 0, 'moved within the 10:30 interval: decided already');
  await pub.tick(at(t0 + 120 * MIN, 52.3));
  t.same(out, [{ day, interval: 18, start: S(t0), end: S(t0 + 100 * MIN), lat: out[0]?.lat }], 'sealed on moving: window = first..last fix in the cell');
});

t.test('a brief pass covers only the time seen there', async (t) => {
  const { pub, out } = harness({ level: 'grid50' });
  await pub.tick(at(t0, 52.3));
  for (let s = 0; s <= 180; s += 15) await pub.tick(at(t0 + 30 * MIN + s * 1000)); // 3 min at the café
  await pub.tick(at(t0 + 33 * MIN + 15_000, 52.31)); // gone
  await pub.tick(at(t0 + 60 * MIN, 52.31));
  t.equal(out.length, 2);
  t.same([out[1].interval, out[1].end - out[1].start], [19, 180], 'the pass: 3 min, not the whole interval');
});

t.test('a long stay is sealed every maxStayIntervals; gaps and day changes close a stay', async (t) => {
  const { pub, out } = harness({ level: 'grid50', maxStayIntervals: 2 });
  for (let m = 0; m <= 95; m += 5) await pub.tick(at(t0 + m * MIN));
  t.same(
    out.map((o) => [o.interval, o.end - o.start]),
    [[18, 3600]],
    'capped after two intervals: 09:00–10:00',
  );
  t.same(pub.state.stay && [pub.state.stay.interval, pub.state.stay.start], [20, S(t0 + 60 * MIN)], 'a new stay from 10:00 with a fresh interval number');
  await pub.tick({ now: t0 + 120 * MIN, trusted: true, cert }); // 11:00 no location
  t.equal(out.length, 1, 'one interval without a decision is not a gap yet');
  await pub.tick({ now: t0 + 150 * MIN, trusted: true, cert });
  t.same(
    out.map((o) => [o.interval, o.start, o.end]),
    [
      [18, S(t0), S(t0 + 60 * MIN)],
      [20, S(t0 + 60 * MIN), S(t0 + 95 * MIN)],
    ],
    'a missed interval closes the stay',
  );
  await pub.tick(at(t0 + 150 * MIN));
  t.equal(pub.counts.open, 3, 'same cell after a gap opens a new stay');
  const late = day * DAY + DAY - 60_000;
  const { pub: p2, out: o2 } = harness({ level: 'grid50' });
  await p2.tick(at(late));
  const next = { ...at(late + 120_000), cert: { day: day + 1, notBefore: (day + 1) * 86_400, notAfter: (day + 2) * 86_400 } };
  await p2.tick(next);
  t.same(
    o2.map((o) => [o.day, o.interval]),
    [[day, 47]],
    "the new day closes yesterday's stay with yesterday's pseudonym",
  );
  t.equal(p2.state.stay?.day, day + 1);
});

t.test('a failing sink keeps the stay; a failing seal drops it', async (t) => {
  let fail = true;
  const got: number[] = [];
  const pub = new Publisher({
    config: cfg,
    seal: (_d, i) => Uint8Array.of(i),
    sink: async (tc) => {
      if (fail) throw new Error('disk full');
      got.push(tc[0]);
    },
  });
  await pub.tick(ok(t0));
  await t.rejects(pub.tick(ok(t0 + 30 * MIN, 52.3)), /disk full/);
  fail = false;
  await pub.tick(ok(t0 + 31 * MIN, 52.3));
  t.same(got, [18], 'retried on the next tick');
  const dropping = new Publisher({
    config: cfg,
    seal: () => {
      throw new Error('no certificate');
    },
    sink: async () => {},
  });
  await dropping.tick(ok(t0));
  await dropping.flush();
  t.same([dropping.counts.lost, dropping.state.stay], [1, undefined]);
});
