import t from 'tap';
import { appendFileSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '@beepkit/protocol/rng';
import { EncounterLog, loadEncounters, saveEncounters, openEncounterFile, sealEncounters } from '../src/encounters/index.ts';

const T0 = 1_700_000_000_000;
const KEY = new Uint8Array(32).fill(5);

function crowd(seed: number) {
  const rng = mulberry32(seed);
  const hex = (n: number) =>
    Array.from({ length: n }, () =>
      Math.floor(rng() * 256)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  let at = T0;
  return (log: EncounterLog, n: number, peers = 30): void => {
    const rpis = Array.from({ length: peers }, () => hex(16));
    for (let i = 0; i < n; i++) {
      at += Math.floor(rng() * 20_000);
      const k = Math.floor(rng() * peers);
      log.record(rpis[k], hex(4), `c0:00:00:00:00:${(k % 20).toString(16).padStart(2, '0')}`, 50 + Math.floor(rng() * 30), at, rng() < 0.5);
    }
  };
}

const frames = (path: string) => statSync(path).size;

t.test('saves append what changed, fsynced; a load gives the log back', async (t) => {
  const path = join(t.testdir({}), 'encounters.bin');
  const log = new EncounterLog();
  const hear = crowd(1);
  hear(log, 400);
  await saveEncounters(path, log, KEY);
  const ino = statSync(path).ino;
  const first = frames(path);
  t.equal(statSync(path).mode & 0o777, 0o600);
  const grew: number[] = [];
  for (let i = 0; i < 5; i++) {
    hear(log, 20, 5);
    const before = frames(path);
    await saveEncounters(path, log, KEY);
    grew.push(frames(path) - before);
    t.same((await loadEncounters(path, KEY)).encounters(), log.encounters(), `after append ${i}`);
  }
  t.equal(statSync(path).ino, ino, 'appended, not rewritten');
  t.ok(
    grew.every((g) => g > 0 && g < first / 4),
    `each append small (${grew.join(', ')} bytes against ${first})`,
  );
  await saveEncounters(path, log, KEY);
  t.ok(frames(path) - first - grew.reduce((a, b) => a + b) < 120, 'nothing changed: an empty frame');
  t.same((await loadEncounters(path, KEY)).rotations, log.rotations, 'rotations once each');
  t.ok(log.rotations.length > 0);
  t.same(readdirSync(join(path, '..')), ['encounters.bin'], 'no temp file left');
});

t.test('a purge, a restore or another file rewrites the whole file', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  const log = new EncounterLog({ retentionMs: 3_600_000 });
  const hear = crowd(2);
  hear(log, 600);
  await saveEncounters(path, log, KEY);
  let ino = statSync(path).ino;
  t.ok(log.purge(T0 + 3 * 3_600_000) > 0, 'purged some');
  await saveEncounters(path, log, KEY);
  t.not(statSync(path).ino, ino, 'rewritten after the purge');
  t.same((await loadEncounters(path, KEY, { retentionMs: 3_600_000 })).encounters(), log.encounters());
  ino = statSync(path).ino;
  const other = join(dir, 'other.bin');
  await saveEncounters(other, log, KEY);
  hear(log, 10);
  await saveEncounters(path, log, KEY);
  t.not(statSync(path).ino, ino, 'rewritten after a save elsewhere');
  const live = new EncounterLog();
  live.restoreFrom(await loadEncounters(path, KEY));
  t.same(live.encounters(), log.encounters());
  hear(live, 30);
  ino = statSync(path).ino;
  await saveEncounters(path, live, KEY);
  t.not(statSync(path).ino, ino, 'a loaded log: its first save rewrites');
  t.same((await loadEncounters(path, KEY)).encounters(), live.encounters());
});

t.test('a torn last frame is dropped: the log of the save before', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  const log = new EncounterLog();
  const hear = crowd(3);
  hear(log, 300);
  await saveEncounters(path, log, KEY);
  hear(log, 50);
  await saveEncounters(path, log, KEY);
  const saved = log.encounters();
  const good = frames(path);
  hear(log, 50);
  await saveEncounters(path, log, KEY);
  const full = readFileSync(path);
  for (const cut of [good + 1, good + 3, good + 30, full.length - 1]) {
    writeFileSync(path, full.subarray(0, cut));
    t.same((await loadEncounters(path, KEY)).encounters(), saved, `cut at ${cut - good} bytes into the last frame`);
  }
  writeFileSync(path, full.subarray(0, good));
  appendFileSync(path, new Uint8Array(4096)); // the file grown but its blocks never written
  t.same((await loadEncounters(path, KEY)).encounters(), saved, 'a zero-filled tail');
  const garbled = new Uint8Array(full);
  garbled[full.length - 5] ^= 1;
  writeFileSync(path, garbled);
  t.same((await loadEncounters(path, KEY)).encounters(), saved, 'a last frame not all written');
  writeFileSync(path, full);
  t.same((await loadEncounters(path, KEY)).encounters(), log.encounters(), 'whole');
});

t.test('tampering, a wrong key and moved frames are refused', async (t) => {
  const path = join(t.testdir({}), 'encounters.bin');
  const log = new EncounterLog();
  const hear = crowd(4);
  hear(log, 200);
  await saveEncounters(path, log, KEY);
  const one = frames(path);
  hear(log, 20);
  await saveEncounters(path, log, KEY);
  const two = frames(path);
  hear(log, 20);
  await saveEncounters(path, log, KEY);
  const full = new Uint8Array(readFileSync(path));
  await t.rejects(loadEncounters(path, new Uint8Array(32)), { code: 'E_DECRYPT' }, 'wrong key');
  const mid = full.slice();
  mid[one + 40] ^= 1;
  await t.rejects(openEncounterFile(mid, KEY), { code: 'E_DECRYPT' }, 'a middle frame changed');
  const head = full.slice();
  head[7] ^= 1;
  await t.rejects(openEncounterFile(head, KEY), { code: 'E_DECRYPT' }, 'the file id changed');
  const swapped = new Uint8Array(full.length);
  swapped.set(full.subarray(0, one));
  swapped.set(full.subarray(two), one);
  swapped.set(full.subarray(one, two), one + full.length - two);
  await t.rejects(openEncounterFile(swapped, KEY), { code: 'E_DECRYPT' }, 'the appended frames swapped');
});

t.test('the single sealed file of before still loads; the next save writes the journal', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  copyFileSync(join(import.meta.dirname, 'fixtures', 'encounters-v2.bin'), path);
  const key = new Uint8Array(32).fill(7);
  const want = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'encounters-v2.json'), 'utf8'));
  const log = await loadEncounters(path, key);
  t.same(log.encounters(), want.encounters);
  crowd(5)(log, 40);
  await saveEncounters(path, log, key);
  t.same(readFileSync(path).subarray(0, 4).toString(), 'BKEJ');
  t.same((await loadEncounters(path, key)).encounters(), log.encounters());
  writeFileSync(path, sealEncounters(log, key));
  t.same((await loadEncounters(path, key)).encounters(), log.encounters(), 'sealEncounters output still loads');
});

t.test('a failed append is E_IO and the next save rewrites; records during a save are not lost; saves queue', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  const log = new EncounterLog({ retentionMs: Infinity });
  const hear = crowd(6);
  hear(log, 100);
  await saveEncounters(path, log, KEY);
  unlinkSync(path);
  hear(log, 10);
  await t.rejects(saveEncounters(path, log, KEY), { code: 'E_IO' });
  await saveEncounters(path, log, KEY);
  t.same((await loadEncounters(path, KEY)).encounters(), log.encounters(), 'rewritten whole');
  // a rewrite in frames of 8192 encounters, with records between them
  for (let i = 0; i < 20_000; i++) log.record(i.toString(16).padStart(32, '0'), '00000000', 'c0:00:00:00:00:01', 60, T0 + i);
  const big = join(dir, 'big.bin'); // a file this log was not saved to: rewritten
  const saving = saveEncounters(big, log, KEY);
  let stop = false;
  let rounds = 0;
  const during = (async () => {
    while (!stop) {
      await new Promise((r) => setImmediate(r));
      hear(log, 3);
      log.record((5).toString(16).padStart(32, '0'), '00000000', 'c0:00:00:00:00:01', 55, T0 + 20_000 + rounds * 1000); // in the first frame
      rounds++;
    }
  })();
  const queued = saveEncounters(big, log, KEY);
  await saving;
  t.ok(rounds > 2, `${rounds} rounds of records during the rewrite`);
  stop = true;
  await during;
  await queued;
  await saveEncounters(big, log, KEY);
  const back = await loadEncounters(big, KEY, { retentionMs: Infinity });
  t.equal(back.size, log.size);
  t.same(back.encounters(), log.encounters());
  t.same(back.rotations, log.rotations, 'each rotation once');
  truncateSync(path, 10);
  await t.rejects(loadEncounters(path, KEY), { code: 'E_TRUNCATED' }, 'a file shorter than a header and a frame');
});

t.test('encounters recorded during a rewrite near a frame boundary: each rotation once', async (t) => {
  const path = join(t.testdir({}), 'encounters.bin');
  const log = new EncounterLog({ retentionMs: Infinity });
  const rpi = (i: number) => i.toString(16).padStart(32, '0');
  // 8190 encounters heard from 10 addresses in turn: rotations
  for (let i = 0; i < 8190; i++) log.record(rpi(i), '00000000', `c0:00:00:00:00:0${i % 10}`, 60, T0 + i);
  const saving = saveEncounters(path, log, KEY);
  let i = 8190;
  let stop = false;
  const during = (async () => {
    while (!stop) {
      await new Promise((r) => setImmediate(r));
      for (let k = 0; k < 5; k++, i++) log.record(rpi(i), '00000000', `c0:00:00:00:00:0${i % 10}`, 60, T0 + i);
    }
  })();
  await saving;
  stop = true;
  await during;
  t.ok(i > 8192 + 5, `${i - 8190} encounters recorded during the rewrite`);
  await saveEncounters(path, log, KEY);
  const back = await loadEncounters(path, KEY);
  t.equal(back.size, log.size);
  t.equal(back.rotations.length, log.rotations.length, 'each rotation once');
  t.same(back.rotations, log.rotations);
  t.same(back.encounters(), log.encounters());
});

t.test('a purge while a rewrite writes its frames: the save still holds every encounter left', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  const DAY = 86_400_000;
  const log = new EncounterLog({ retentionMs: DAY });
  const rpi = (i: number) => i.toString(16).padStart(32, '0');
  // 3000 old encounters first, then 30 000 recent ones: a purge moves the recent ones down 3000 slots
  for (let i = 0; i < 33_000; i++) log.record(rpi(i), '00000000', 'c0:00:00:00:00:01', 60, i < 3000 ? T0 + i : T0 + 2 * DAY + i);
  const saving = saveEncounters(path, log, KEY);
  let done = false;
  void saving.finally(() => (done = true));
  let purged = 0;
  // once the temp file holds a frame, before the rewrite is done
  while (!done && !purged) {
    await new Promise((r) => setImmediate(r));
    const tmp = readdirSync(dir).find((f) => f.endsWith('.tmp'));
    if (tmp && statSync(join(dir, tmp)).size > 64) purged = log.purge(T0 + 2 * DAY);
  }
  await saving;
  t.equal(purged, 3000, 'purged while the rewrite wrote its frames');
  const back = await loadEncounters(path, KEY, { retentionMs: DAY });
  const held = new Set(back.encounters().map((e) => e.rpi));
  t.same(log.encounters().filter((e) => !held.has(e.rpi)).length, 0, `the file holds the ${log.size} encounters left (${back.size} loaded)`);
});

t.test('a frame length of zero or past the end; the first save after loading a torn file rewrites it', async (t) => {
  const path = join(t.testdir({}), 'encounters.bin');
  const log = new EncounterLog();
  const hear = crowd(9);
  hear(log, 200);
  await saveEncounters(path, log, KEY);
  hear(log, 20);
  await saveEncounters(path, log, KEY);
  const saved = log.encounters();
  const full = readFileSync(path);
  const len = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return b;
  };
  for (const [what, tail] of [
    ['a zero length, zeros after', Buffer.concat([len(0), new Uint8Array(3 << 20)])],
    ['a length past the end', Buffer.concat([len(0xffffffff), new Uint8Array(100).fill(7)])],
    ['a length field cut short', len(300).subarray(0, 2)],
  ] as const) {
    writeFileSync(path, Buffer.concat([full, tail]));
    t.same((await loadEncounters(path, KEY)).encounters(), saved, `${what}: a torn last frame`);
  }
  const garbage = new Uint8Array(3 << 20).fill(9);
  writeFileSync(path, Buffer.concat([full, len(0), garbage]));
  await t.rejects(loadEncounters(path, KEY), { code: 'E_TRUNCATED' }, 'a zero length before data: refused, typed');
  // a torn tail, loaded, recorded to and saved: the save rewrites (an append would follow the torn bytes)
  writeFileSync(path, Buffer.concat([full, full.subarray(full.length - 50)]));
  const back = await loadEncounters(path, KEY);
  hear(back, 30);
  await saveEncounters(path, back, KEY);
  hear(back, 30);
  await saveEncounters(path, back, KEY);
  t.same((await loadEncounters(path, KEY)).encounters(), back.encounters(), 'saved after a torn tail: all of it loads');
});

t.test('a load removes the temp files of rewrites cut short (a kill mid-rewrite), and nothing else', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'encounters.bin');
  const log = new EncounterLog();
  crowd(9)(log, 200);
  await saveEncounters(path, log, KEY);
  writeFileSync(join(dir, '.encounters.bin.4242.0123456789ab.tmp'), 'half a rewrite');
  writeFileSync(join(dir, '.visits.bin.4242.0123456789ab.tmp'), 'another log');
  writeFileSync(join(dir, 'notes.txt'), 'kept');
  const back = await loadEncounters(path, KEY);
  t.equal(back.size, log.size);
  t.same(readdirSync(dir).sort(), ['.visits.bin.4242.0123456789ab.tmp', 'encounters.bin', 'notes.txt'], "only the log's stale temp went");
});
