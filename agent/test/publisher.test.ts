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
const fixAt = (now: number, lat = 52.2053, lon = 0.1218): Fix => ({ start: Math.floor(now / 1000) - 60, end: Math.floor(now / 1000), lat, lon, accuracy: 8, sources: Source.gnss | Source.beacon });
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
  t.same(pub.counts, { seal: 3, stationary: 3, 'no-location': 1 });
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
