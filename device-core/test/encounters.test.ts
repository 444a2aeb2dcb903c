import t from 'tap';
import { join } from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import {
  EncounterLog,
  bucketOf,
  meanAttenuation,
  durationMs,
  serialiseEncounters,
  deserialiseEncounters,
  sealEncounters,
  openEncounters,
  saveEncounters,
  loadEncounters,
  DAY_MS,
} from '../src/encounters/index.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const rpi = (n: number) => n.toString(16).padStart(32, '0');
const AEM = '40f80000';

t.test('CWA attenuation buckets', async (t) => {
  t.same(
    [40, 62.9, 63, 72.9, 73, 78.9, 79, 120].map((a) => bucketOf(a)),
    [0, 0, 1, 1, 2, 2, 3, 3],
  );
  t.equal(bucketOf(50, [55]), 0);
  t.equal(bucketOf(60, [55]), 1);
});

t.test('per-RPI aggregates and exposure windows ≤ 30 min', async (t) => {
  const log = new EncounterLog();
  // 45 minutes at one sample per minute: 0–14 at 60 dB, 15–29 at 70 dB, 30–44 at 80 dB
  for (let m = 0; m < 45; m++) log.record(rpi(1), AEM, 'a1', m < 15 ? 60 : m < 30 ? 70 : 80, T0 + m * MIN);
  const e = log.get(rpi(1));
  t.ok(e);
  if (!e) return;
  t.equal(e.samples, 45);
  t.equal(e.minAttenuation, 60);
  t.equal(meanAttenuation(e), 70);
  t.equal(durationMs(e), 44 * MIN);
  t.equal(e.windows.length, 2, 'split at 30 min');
  for (const w of e.windows) t.ok(w.end - w.start < 30 * MIN, 'window shorter than 30 min');
  const total = e.windows.flatMap((w) => w.msByBucket).reduce((a, b) => a + b, 0);
  t.equal(total, 44 * MIN, 'every gap credited once');
  t.same(e.windows[0].msByBucket, [14 * MIN, 15 * MIN, 0, 0]);
  t.same(e.windows[1].msByBucket, [0, 0, 0, 15 * MIN]);
  t.equal(log.exposureWindows().length, 2);
});

t.test('gaps longer than maxCredit start a new window without credit', async (t) => {
  const log = new EncounterLog({ maxCreditMs: 5 * MIN });
  log.record(rpi(2), AEM, 'a', 60, T0);
  log.record(rpi(2), AEM, 'a', 60, T0 + MIN);
  log.record(rpi(2), AEM, 'a', 60, T0 + 20 * MIN);
  const e = log.get(rpi(2));
  t.equal(e?.windows.length, 2);
  t.same(e?.windows[1].msByBucket, [0, 0, 0, 0]);
  t.same(e?.windows[0].msByBucket, [MIN, 0, 0, 0]);
});

t.test('address rotations are noted, each RPI is its own peer', async (t) => {
  const log = new EncounterLog();
  log.record(rpi(3), AEM, 'c0:aa', 60, T0);
  log.record(rpi(4), AEM, 'c0:aa', 60, T0 + 15 * MIN);
  log.record(rpi(4), AEM, 'c0:aa', 60, T0 + 16 * MIN);
  t.equal(log.size, 2);
  t.same(log.rotations, [{ address: 'c0:aa', fromRpi: rpi(3), toRpi: rpi(4), at: T0 + 15 * MIN }]);
});

t.test('retention purge after 14 days', async (t) => {
  const log = new EncounterLog();
  log.record(rpi(5), AEM, 'x', 60, T0);
  log.record(rpi(6), AEM, 'x', 60, T0 + 2 * DAY_MS);
  t.equal(log.purge(T0 + 14 * DAY_MS + 1), 1);
  t.equal(log.size, 1);
  t.notOk(log.get(rpi(5)));
  t.equal(log.rotations.length, 1, 'the day-2 rotation is within retention');
  t.equal(log.encounters(T0 + DAY_MS).length, 1);
  t.equal(log.purge(T0 + 16 * DAY_MS + 1), 1);
  t.equal(log.rotations.length, 0, 'rotations purged with their encounters');
});

t.test('serialise/deserialise and sealed file round trip', async (t) => {
  const log = new EncounterLog();
  for (let m = 0; m < 40; m++) log.record(rpi(7 + (m >> 4)), AEM, 'c0:bb', 55 + (m % 9), T0 + m * 30_000);
  const bytes = serialiseEncounters(log);
  const back = deserialiseEncounters(bytes);
  t.same(back.encounters(), log.encounters());
  t.same(back.rotations, log.rotations);
  t.throws(() => deserialiseEncounters(bytes.subarray(0, bytes.length - 3)), { code: 'E_TRUNCATED' });
  const bad = bytes.slice();
  bad[4] = 9;
  t.throws(() => deserialiseEncounters(bad), { code: 'E_VERSION' });
  const key = new Uint8Array(32).fill(1);
  const sealed = sealEncounters(log, key);
  t.same(openEncounters(sealed, key).encounters(), log.encounters());
  t.throws(() => openEncounters(sealed, new Uint8Array(32)), { code: 'E_DECRYPT' });
  const tampered = sealed.slice();
  tampered[30] ^= 1;
  t.throws(() => openEncounters(tampered, key), { code: 'E_DECRYPT' });
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  await saveEncounters(path, log, key);
  t.same((await loadEncounters(path, key)).encounters(), log.encounters());
  t.equal(statSync(path).mode & 0o777, 0o600, 'sealed at rest, 0600');
  t.same(readdirSync(dir), ['encounters.bin'], 'no temp file left');
  await t.rejects(loadEncounters(join(dir, 'missing'), key), { code: 'E_IO' });
  await t.rejects(saveEncounters(join(dir, 'no-such-dir', 'encounters.bin'), log, key), { code: 'E_IO' }, 'a write that cannot happen: E_IO');
  t.same((await loadEncounters(path, key)).encounters(), log.encounters(), 'the saved log is untouched by a failed save');
});
