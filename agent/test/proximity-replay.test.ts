/** `beepkit proximity replay`: the contract of issue 15 (output, errors, RSSI 127), in process and through the CLI. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrace, replay, TraceError } from '../src/proximity/index.ts';
import { thresholdDb, ProximityEstimator, proximityConfig } from '@beepkit/device-core/proximity';
import { ScanPipeline } from '@beepkit/device-core/scan';
import { EncounterLog } from '@beepkit/device-core/encounters';
import { mulberry32 } from '@beepkit/protocol/rng';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const beepkit = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'beepkit.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

/** A pair 30 min close (strong), then 30 min far (weak), 1 sample per 10 s; unsorted on purpose. */
function trace(): string {
  const lines = ['ignored,tx,rssi,time,rx,tx_model'];
  const rows: string[] = [];
  for (let s = 0; s < 3600; s += 10) rows.push(`x,B,${s < 1800 ? -60 : -95},${1_790_000_000 + s},A,Pixel 3`);
  return [...lines, ...rows.reverse(), `x,B,127,${1_790_000_000 + 5},A,Pixel 3`].join('\n') + '\n';
}

t.test('one line per data row in input order, then per pair: close minutes, buckets, risk', async (t) => {
  const rows = parseTrace(trace());
  const r = replay(rows);
  t.equal(r.rows.length, rows.length);
  t.same(
    r.rows.map((x) => x.row),
    rows.map((_, i) => i),
    'input order',
  );
  const unavailable = r.rows[rows.length - 1];
  t.same(unavailable, { row: rows.length - 1, close: false, attenuation: null }, 'RSSI 127: close false, no attenuation');
  t.equal(r.unavailable, 1);
  // rows were reversed: row 0 is the last (far) sample, the first close sample is near the end
  t.equal(r.rows[0].close, false);
  t.equal(r.rows[rows.length - 2].close, true);
  t.equal(r.rows[0].attenuation, -33 - (-95 + 4), 'EN attenuation: Pixel 3 TX −33, fallback receiver correction +4');
  t.equal(r.pairs.length, 1);
  const p = r.pairs[0];
  t.same(p.pair, { rx: 'A', tx: 'B' });
  // the release (15th percentile of the last 5 min − 4 dB) lets go ~4 min after the step, where the 30-min window
  // alone would hold "close" for 25 min more
  t.ok(p.minutes.close > 29 && p.minutes.close < 35, `close minutes ${p.minutes.close}`);
  const held = replay(rows, { proximity: { release: null } }).pairs[0];
  t.ok(held.minutes.close > 50, `without the release: close minutes ${held.minutes.close}`);
  t.ok(Math.abs(p.minutes.total - 59.833) < 0.01, `total minutes ${p.minutes.total}`);
  t.equal(p.buckets.length, 4);
  t.equal(p.risk, 'high');
  t.same(p.samples, { total: 361, unavailable: 1 });
});

t.test('--threshold-m 1.5 is stricter than 2 m', async (t) => {
  t.ok(thresholdDb(1.5) < thresholdDb(2));
  // attenuation at the 2 m threshold and 1 dB below it (TX 0 dBm, no correction): the estimate (a blend of the
  // window's quantiles) lies between them, so close at 2 m; above the 1.5 m threshold (at least 1 dB lower): not close
  t.ok(thresholdDb(1.5) <= thresholdDb(2) - 1);
  const text = ['time,rssi,rx,tx,tx_power,rssi_correction', ...Array.from({ length: 50 }, (_, i) => `${i},${-thresholdDb(2) + 0.5 * (i % 2)},a,b,0,0`)].join(
    '\n',
  );
  const two = replay(parseTrace(text), { thresholdM: 2 }).rows.filter((x) => x.close).length;
  const one = replay(parseTrace(text), { thresholdM: 1.5 }).rows.filter((x) => x.close).length;
  t.equal(two, 50, 'all close at 2 m');
  t.equal(one, 0, 'none at 1.5 m');
});

t.test("the estimate blends the window's quantiles; a bad blend is E_CONFIG", async (t) => {
  const blend = new ProximityEstimator(
    proximityConfig({
      quantiles: [
        { q: 0.1, w: 0.75 },
        { q: 0.5, w: 0.25 },
      ],
    }),
  );
  // 20 samples: 40..59 dB; 10th percentile 42, median 50: 0.75 × 42 + 0.25 × 50 = 44
  for (let i = 0; i < 20; i++) blend.update(i * 1000, 59 - i);
  t.equal(blend.estimate, 44);
  const one = new ProximityEstimator(proximityConfig({ quantiles: [{ q: 0.5, w: 1 }] }));
  for (let i = 0; i < 20; i++) one.update(i * 1000, 59 - i);
  t.equal(one.estimate, 50, 'the median alone');
  for (const quantiles of [
    [],
    [{ q: 0.1, w: 0.5 }],
    [{ q: 1.5, w: 1 }],
    [
      { q: 0.1, w: -1 },
      { q: 0.5, w: 2 },
    ],
  ]) {
    t.throws(() => proximityConfig({ quantiles }), { code: 'E_CONFIG' }, JSON.stringify(quantiles));
  }
});

t.test('the default: the 15th percentile of 30 min, released by the 15th percentile of the last 5 min − 4 dB', async (t) => {
  const est = new ProximityEstimator(proximityConfig());
  // 20 samples: 40..59 dB; both windows hold them all: 15th percentile 43, release 43 − 4
  for (let i = 0; i < 20; i++) est.update(i * 1000, 59 - i);
  t.equal(est.estimate, 43);
  // 10 min close (40 dB), then apart (70 dB), 1 sample/s: the release lets go within the 5-min window, the
  // 30-min window alone still holds "close"
  const fast = new ProximityEstimator(proximityConfig());
  const held = new ProximityEstimator(proximityConfig({ release: null }));
  let s = 0;
  let together = 0;
  for (; s < 600; s++) {
    const f = fast.update(s * 1000, 40);
    const h = held.update(s * 1000, 40);
    together += +(f && h);
  }
  t.equal(together, 600, 'close while together');
  let releasedAt = -1;
  for (; s < 900; s++) {
    const f = fast.update(s * 1000, 70);
    held.update(s * 1000, 70);
    if (!f && releasedAt < 0) releasedAt = s - 600;
  }
  t.ok(releasedAt > 200 && releasedAt <= 300, `released ${releasedAt} s after parting`);
  t.equal(fast.close, false);
  t.equal(held.close, true, 'without the release: still close 5 min after parting');
  t.equal(held.estimate, 40);
  t.equal(fast.estimate, 66, 'the release window: 70 dB − 4');
  for (const release of [
    { windowMs: 3_600_000, maxSamples: 10, q: 0.1, marginDb: 4 },
    { windowMs: 60_000, maxSamples: 4096, q: 0.1, marginDb: 4 },
    { windowMs: 60_000, maxSamples: 10, q: 2, marginDb: 4 },
    { windowMs: 60_000, maxSamples: 10, q: 0.1, marginDb: NaN },
  ]) {
    t.throws(() => proximityConfig({ release }), { code: 'E_CONFIG' }, JSON.stringify(release));
  }
});

t.test('the incremental windows equal a brute-force sort of the same samples (seeded)', async (t) => {
  const rng = mulberry32(15);
  let checked = 0;
  for (let run = 0; run < 40; run++) {
    const maxSamples = 1 + Math.floor(rng() * 60);
    const windowMs = 1000 + Math.floor(rng() * 60_000);
    const release =
      rng() < 0.2 ? null : { windowMs: 1 + Math.floor(rng() * windowMs), maxSamples: 1 + Math.floor(rng() * maxSamples), q: rng(), marginDb: rng() * 8 };
    const quantiles = [
      { q: rng(), w: 0.5 },
      { q: rng(), w: 0.5 },
    ];
    const est = new ProximityEstimator(proximityConfig({ maxSamples, windowMs, release, quantiles }));
    const seen: [number, number][] = [];
    let at = 0;
    for (let k = 0; k < 400; k++) {
      at += Math.floor(rng() * 3000);
      // integer dB with many ties, as real RSSI
      const att = 30 + Math.floor(rng() * 40);
      est.update(at, att);
      seen.push([at, att]);
      const pick = (ms: number, max: number, q: number): number => {
        const w = seen.slice(-max).filter(([a], i, all) => a >= at - ms || i === all.length - 1);
        const v = w.map((x) => x[1]).sort((a, b) => a - b);
        return v[Math.min(v.length - 1, Math.floor(q * v.length))];
      };
      let want = quantiles.reduce((e, x) => e + x.w * pick(windowMs, maxSamples, x.q), 0);
      if (release) want = Math.max(want, pick(release.windowMs, release.maxSamples, release.q) - release.marginDb);
      if (est.estimate !== want) {
        t.fail(`run ${run} sample ${k}: ${est.estimate} vs ${want}`);
        return;
      }
      checked++;
    }
  }
  t.equal(checked, 16_000, 'every estimate as the brute force');
});

t.test('the agent in the field and replay make the same decision', async (t) => {
  const log = new EncounterLog();
  const p = new ScanPipeline({ encounters: log, rssiCorrection: 4, enTxPower: () => -33 });
  const est = new ProximityEstimator(proximityConfig());
  t.ok(p, 'pipeline');
  const text = ['time,rssi,rx,tx,tx_power,rssi_correction', ...Array.from({ length: 200 }, (_, i) => `${i * 7},${-70 - ((i * 37) % 29)},a,b,-33,4`)].join('\n');
  const rows = parseTrace(text);
  const r = replay(rows);
  rows.forEach((row, i) => t.equal(r.rows[i].close, est.update(row.time * 1000, -33 - (row.rssi + 4)), `row ${i}`));
});

t.test('malformed traces: E_TRACE with the line, nothing dropped', async (t) => {
  const bad: [string, RegExp, number][] = [
    ['', /header/, 1],
    ['time,rssi,rx\n1,-50,a\n', /missing required column\(s\): tx/, 1],
    ['rssi,tx\n', /time, rx/, 1],
    ['time,rssi,rx,tx,rx\n', /twice/, 1],
    ['time,rssi,rx,tx\n1,-50,a,b\n2,-50,a\n', /line 3: 3 fields/, 3],
    ['time,rssi,rx,tx\n1,-50,a,b\n\n2,-50,a,b\n', /line 3: empty row/, 3],
    ['time,rssi,rx,tx\nnow,-50,a,b\n', /line 2: time is not a number/, 2],
    ['time,rssi,rx,tx\n1,,a,b\n', /rssi is not a number/, 2],
    ['time,rssi,rx,tx\n1,0x10,a,b\n', /rssi is not a number/, 2],
    ['time,rssi,rx,tx\n-1,-50,a,b\n', /time -1 is outside/, 2],
    ['time,rssi,rx,tx\n1,-50,,b\n', /rx is empty/, 2],
    ['time,rssi,rx,tx,tx_power\n1,-50,a,b,999\n', /tx_power 999/, 2],
    ['time,rssi,rx,tx,rssi_correction\n1,-50,a,b,x\n', /rssi_correction is not a number/, 2],
    ['time,rssi,rx,tx\n1,Infinity,a,b\n', /not a number/, 2],
  ];
  for (const [text, msg, line] of bad) {
    let err: TraceError | undefined;
    try {
      parseTrace(text);
    } catch (e) {
      err = e as TraceError;
    }
    t.ok(err instanceof TraceError, JSON.stringify(text));
    if (!err) continue;
    t.equal(err.code, 'E_TRACE');
    t.match(err.message, msg);
    t.equal(err.line, line, JSON.stringify(text));
  }
  t.equal(parseTrace('time,rssi,rx,tx\r\n1,-300,a,b\r\n\r\n').length, 1, 'CRLF and trailing blank lines; -300 dBm is a row (counted)');
  t.same(
    replay(parseTrace('time,rssi,rx,tx\n1,-300,a,b\n2,25,a,b\n')).rows.map((r) => r.close),
    [false, false],
    'out of range: close false',
  );
});

t.test('fuzz: 10 000 mutated traces give rows or a BeepkitError, never a crash', async (t) => {
  let seed = 0x15;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const base =
    'time,rssi,rx,tx,tx_model,rx_model,tx_power,rssi_correction\n' +
    Array.from({ length: 12 }, (_, i) => `${1_790_000_000 + i * 31},${-60 - i},a${i % 2},b,Pixel 3,SM-G965F,${i % 3 ? '' : -20},${i % 4 ? '' : 1.5}`).join(
      '\n',
    ) +
    '\n';
  const junk = [',', '\n', '"', '\r', '127', '-', '.', 'e', '1e999', 'NaN', '\u0000', 'é', ' ', '-129', '21', 'time', '0', '\n\n'];
  const outcomes = { ok: 0, E_TRACE: 0 } as Record<string, number>;
  for (let i = 0; i < 10_000; i++) {
    const chars = [...base];
    for (let m = 1 + Math.floor(rnd() * 4); m > 0; m--) {
      const at = Math.floor(rnd() * chars.length);
      const op = rnd();
      if (op < 0.33) chars.splice(at, 1 + Math.floor(rnd() * 3));
      else if (op < 0.66) chars.splice(at, 0, junk[Math.floor(rnd() * junk.length)]);
      else chars[at] = String.fromCharCode(32 + Math.floor(rnd() * 95));
    }
    try {
      const rows = parseTrace(chars.join(''));
      const r = replay(rows);
      if (r.rows.length !== rows.length) throw new Error('a row was dropped');
      outcomes.ok++;
    } catch (err) {
      if (!(err instanceof TraceError)) {
        t.fail(`case ${i}: ${(err as Error).stack}`);
        return;
      }
      outcomes[err.code]++;
    }
  }
  t.ok(outcomes.ok > 1000 && outcomes.E_TRACE > 1000, JSON.stringify(outcomes));
});

t.test('the CLI: JSON lines, exit 0; E_TRACE with its line, exit 2', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'ok.csv'), 'time,rssi,rx,tx\n10,-60,a,b\n11,127,a,b\n');
  writeFileSync(join(dir, 'bad.csv'), 'time,rssi,rx,tx\n10,-60,a,b\n11,loud,a,b\n');
  const ok = beepkit(['proximity', 'replay', '--threshold-m', '1.5', join(dir, 'ok.csv')]);
  t.equal(ok.status, 0, ok.stderr);
  const lines = ok.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(lines, [
    { row: 0, close: Boolean, attenuation: Number },
    { row: 1, close: false, attenuation: null },
    { pair: { rx: 'a', tx: 'b' }, risk: 'none' },
  ]);
  t.match(ok.stderr, /"unavailable":1/);
  const bad = beepkit(['proximity', 'replay', join(dir, 'bad.csv')]);
  t.equal(bad.status, 2);
  t.equal(bad.stdout, '', 'nothing on stdout');
  t.match(JSON.parse(bad.stderr.trim()), { code: 'E_TRACE', line: 3 });
  const missing = beepkit(['proximity', 'replay', join(dir, 'nope.csv')]);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /E_IO/);
});
