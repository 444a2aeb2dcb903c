import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { OwnFingerprints, matchFingerprints, type BluetoothExposure } from '../src/matching/index.ts';
import {
  AlertDispatcher,
  CallbackSink,
  CommandSink,
  StatusSink,
  WebhookSink,
  LoggerSink,
  bluetoothAlerts,
  fingerprintAlerts,
  venueAlerts,
  dayLabel,
  type Alert,
} from '../src/alerts/index.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const day = 20_413; // 21 Nov 2025
const bytes = (s: string, n = 32): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest()).slice(0, n);
const bt = (minutes: number[], minAttenuation: number): BluetoothExposure => ({
  kind: 'bluetooth',
  day,
  windows: [{ start: day * DAY + 3_600_000, end: day * DAY + 3_600_000 + 30 * MIN, minAttenuation, msByBucket: minutes.map((m) => m * MIN) }],
});

t.test('a block with one own fingerprint raises a high-risk alert; a block without raises none', async (t) => {
  const prefixes = Array.from({ length: 14 }, (_, i) => ({ day: day - i, prefix: bytes(`p${i}`) }));
  const own = new OwnFingerprints(prefixes, { now: day * DAY + 1000 });
  const n = 5000;
  const block = {
    fingerprints: new Uint8Array(n * 16).map((_, i) => (i * 131 + 7) & 0xff),
    levels: new Uint8Array(n).fill(2),
    days: new Uint32Array(n).fill(day - 2),
  };
  t.same(fingerprintAlerts(matchFingerprints(own, block)), []);
  block.fingerprints.set(fingerprint(prefixes[2].prefix), 1234 * 16);
  const alerts = fingerprintAlerts(matchFingerprints(own, block));
  t.equal(alerts.length, 1);
  t.match(alerts[0], { kind: 'fingerprint', level: 'high', day: day - 2, date: '2025-11-19' });
  t.match(alerts[0].explanation, /^On 19 Nov you were at a place .* someone who later tested positive/);
});

t.test('bluetooth explanation: how long, how near; probability when β configured', async (t) => {
  const [a] = bluetoothAlerts([bt([22, 0, 0, 0], 57)]);
  t.match(a, { kind: 'bluetooth', level: 'high', minutes: 22, distanceM: 2, date: '2025-11-21' });
  t.equal(a.probability, undefined);
  t.match(a.explanation, /^On 21 Nov you spent about 22 minutes within roughly 2 m of someone who later tested positive\./);
  const [low] = bluetoothAlerts([bt([0, 6, 0, 0], 68)]);
  t.match(low, { level: 'low', minutes: 6 });
  t.same(bluetoothAlerts([bt([4, 0, 0, 30], 50)]), [], 'dropped (< 5 min below 79 dB): no alert');
  const [p] = bluetoothAlerts([bt([22, 0, 0, 0], 57)], { beta: [-3, 0.02, 0.1, -0.01, 0.01] });
  t.ok(p.probability! > 0 && p.probability! < 1);
  t.match(p.explanation, /Estimated probability of infection: \d+%\./);
});

t.test('venue alert', async (t) => {
  const [v] = venueAlerts([{ kind: 'venue', day, level: 'high', overlapMs: 35 * MIN, checkInGapMs: 10 * MIN }]);
  t.match(v, { kind: 'venue', level: 'high', minutes: 35 });
  t.match(v.explanation, /^On 21 Nov you visited a venue while someone who later tested positive was there .* about 35 minutes/);
});

const sample: Alert = bluetoothAlerts([bt([22, 0, 0, 0], 57)])[0];

t.test('dispatcher: once per alert, failing sink does not block the others, status snapshot', async (t) => {
  const status = new StatusSink();
  const carer: Alert[] = [];
  const warnings: string[] = [];
  const d = new AlertDispatcher(
    [
      status,
      new CallbackSink('carer', (a) => void carer.push(a)),
      new CallbackSink('broken', () => Promise.reject(Object.assign(new Error('x'), { code: 'E_IO' }))),
    ],
    { logger: { info: () => {}, debug: () => {}, error: () => {}, warn: (o) => warnings.push(JSON.stringify(o)) } },
  );
  t.same(status.snapshot(), { level: 'none', count: 0, alerts: [] });
  const r = await d.dispatch([sample, sample]);
  t.same(r, { delivered: 1, duplicates: 1, failures: [{ sink: 'broken', code: 'E_IO' }] });
  t.equal(carer.length, 1);
  t.match(warnings[0], /"sink":"broken"/);
  t.same(status.snapshot().level, 'high');
  const again = new AlertDispatcher([status], { seen: d.delivered() });
  t.equal((await again.dispatch([sample])).duplicates, 1, 'delivered keys survive a restart');
});

t.test('webhook: bounded retries', async (t) => {
  const bodies: string[] = [];
  let failFirst = 2;
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push(b);
      res.statusCode = failFirst-- > 0 ? 500 : 204;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alert`;
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => void sleeps.push(ms);
  await new WebhookSink({ url, attempts: 3, backoffMs: 100, sleep }).deliver(sample);
  t.equal(bodies.length, 3);
  t.same(JSON.parse(bodies[2]), sample);
  t.same(sleeps, [100, 200]);
  failFirst = 10;
  await t.rejects(new WebhookSink({ url, attempts: 2, sleep }).deliver(sample), { code: 'E_IO' });
  t.equal(bodies.length, 5, 'gave up after 2 more attempts');
  t.throws(() => new WebhookSink({ url: 'file:///etc/passwd' }), { code: 'E_CONFIG' });
});

t.test('command hook gets the alert JSON on stdin', async (t) => {
  const out = join(t.testdir(), 'alert.json');
  const script = `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>require('fs').writeFileSync(${JSON.stringify(out)},s))`;
  await new CommandSink({ command: process.execPath, args: ['-e', script] }).deliver(sample);
  t.same(JSON.parse(readFileSync(out, 'utf8')), sample);
  await t.rejects(new CommandSink({ command: process.execPath, args: ['-e', 'process.exit(3)'] }).deliver(sample), { code: 'E_IO' });
  await t.rejects(new CommandSink({ command: '/nonexistent/hook' }).deliver(sample), { code: 'E_IO' });
});

t.test('logger sink', async (t) => {
  const lines: string[] = [];
  const rec = (o: unknown, m?: string): number => lines.push(`${m} ${JSON.stringify(o)}`);
  await new LoggerSink({ info: rec, warn: rec, error: rec, debug: rec }).deliver(sample);
  t.match(lines[0], /22 minutes.*"level":"high"/);
});

t.test('assessExposure: one pass over all three kinds, one alert per kind and day', async (t) => {
  const { assessExposure } = await import('../src/alerts/index.ts');
  const { packFingerprintBlock } = await import('../src/matching/index.ts');
  const prefixes = [{ day, prefix: bytes('mine') }];
  const blocks = [
    packFingerprintBlock([
      { fingerprint: fingerprint(bytes('mine')), level: 'low', day },
      { fingerprint: bytes('x', 16), level: 'high', day },
    ]),
    packFingerprintBlock([{ fingerprint: fingerprint(bytes('mine')), level: 'high', day }]),
  ];
  const base = day * DAY + 10 * 3_600_000;
  const alerts = assessExposure({
    now: base + 5 * 3_600_000,
    ownPrefixes: prefixes,
    blocks,
    endorsedVisits: [{ venueId: 'ab', entry: base, exit: base + 3_600_000 }],
    ownVisits: [{ venueId: 'AB', entry: base + 50 * MIN }],
  });
  t.same(
    alerts.map((a) => [a.kind, a.level]),
    [
      ['fingerprint', 'high'],
      ['venue', 'low'],
    ],
  );
  t.same(assessExposure({ now: base }), []);
  t.throws(() => packFingerprintBlock([{ fingerprint: new Uint8Array(3), level: 'low', day }]), { code: 'E_RANGE' });
});

t.test('command hook that hangs is killed after its timeout', async (t) => {
  await t.rejects(new CommandSink({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], timeoutMs: 300 }).deliver(sample), {
    code: 'E_IO',
    message: /SIGKILL/,
  });
});

t.test('dayLabel formats by hand what en-GB Intl prints ("3 Dec"), on any Node build', async (t) => {
  for (let day = -800; day < 40_000; day += 29) {
    // ICU before 72 abbreviated September "Sep"; the hand-made label keeps CLDR's current "Sept"
    const intl = new Date(day * DAY).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }).replace(/ Sep$/, ' Sept');
    t.equal(dayLabel(day), intl);
  }
});
