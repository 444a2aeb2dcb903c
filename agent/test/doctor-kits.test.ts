/**
 * `beepkit doctor` on a beacon's config and on a wearable's data dir (in process: neither opens a radio
 * here), and what it was pointed at.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostNow } from '@beepkit/protocol/clock';
import { runDoctor } from '../src/doctor/cli.ts';
import { kindOf } from '../src/doctor/kits.ts';
import { carerVerdict } from '../src/doctor/local.ts';
import { tempDir } from './net-helpers.ts';

const root = tempDir('doctor-kits');
t.teardown(() => root.remove());
const opts = (target: string) => ({ target, timeoutMs: 10_000, skewMs: 300_000, now: hostNow });
const byName = (checks: { name: string; ok: boolean; detail: string; hint: string }[], n: string) => checks.find((c) => c.name === n)!;

t.test('a beacon whose UART does not exist: radio fails naming the path; no venue key yet: identity says how to provision', async (t) => {
  const data = join(root.dir, 'beacon-data');
  mkdirSync(data, { mode: 0o700 });
  const cfg = join(root.dir, 'beacon.yaml');
  writeFileSync(cfg, `dataDir: ${data}\nhci: { uart: ${join(root.dir, 'ttyBEACON')} }\nhttpPort: 0\n`);
  t.same(await kindOf(cfg), { kind: 'beacon', cfg: { dataDir: data, hci: { uart: join(root.dir, 'ttyBEACON') }, httpPort: 0 } });
  const checks = await runDoctor(opts(cfg));
  t.same(
    checks.map((c) => c.name),
    ['platform', 'radio', 'clock', 'storage', 'identity'],
  );
  t.equal(byName(checks, 'radio').ok, false);
  t.match(byName(checks, 'radio').hint, join(root.dir, 'ttyBEACON'));
  t.equal(byName(checks, 'storage').ok, true, byName(checks, 'storage').detail);
  t.equal(byName(checks, 'identity').ok, false);
  t.match(byName(checks, 'identity').hint, /beepkit beacon provision --data-dir/);
  writeFileSync(join(data, 'venue.key'), 'sealed', { mode: 0o644 });
  const again = await runDoctor(opts(cfg));
  t.match(byName(again, 'identity').hint, /chmod 600/, 'a venue key readable by others fails');
});

t.test('a wearable data dir: storage, identity (the sealed profile) and the clock; no radio check', async (t) => {
  const dir = join(root.dir, 'wearable');
  mkdirSync(dir, { mode: 0o700 });
  t.same(await kindOf(dir), { kind: 'wearable' });
  let checks = await runDoctor(opts(dir));
  t.same(
    checks.map((c) => c.name),
    ['platform', 'storage', 'identity', 'clock'],
  );
  t.equal(byName(checks, 'identity').ok, false);
  t.match(byName(checks, 'identity').hint, /beepkit wearable pair --data-dir/);
  writeFileSync(join(dir, 'profile.bin'), 'sealed', { mode: 0o600 });
  writeFileSync(join(dir, 'wearable.lock'), `${process.pid}\n`);
  checks = await runDoctor(opts(dir));
  t.equal(byName(checks, 'identity').ok, true);
  t.match(byName(checks, 'identity').detail, new RegExp(`served by a running wearable \\(pid ${process.pid}\\)`));
  t.match(byName(checks, 'clock').detail, /NTP: skipped \(--ntp off\)/);
});

t.test('what doctor is pointed at: a missing path or a file that is not a YAML mapping is E_CONFIG', async (t) => {
  await t.rejects(kindOf(join(root.dir, 'nope.yaml')), { code: 'E_CONFIG' });
  const bad = join(root.dir, 'bad.yaml');
  writeFileSync(bad, '- a\n- b\n');
  await t.rejects(kindOf(bad), { code: 'E_CONFIG', message: /expected a YAML mapping/ });
  const agent = join(root.dir, 'agent.yaml');
  writeFileSync(agent, 'radio: { scanner: { uart: /dev/null } }\n');
  t.same(await kindOf(agent), { kind: 'agent' });
});

t.test('carer: paired wearables and their last sync; one not synced for a day fails', async (t) => {
  const now = () => 10 * 86_400_000;
  t.equal(carerVerdict([], now).ok, true);
  const fresh = carerVerdict([{ label: 'Grace', lastSyncMs: now() - 120_000, records: 12 }], now);
  t.equal(fresh.ok, true);
  t.match(fresh.detail, /Grace: last sync 2\.0 min ago, 12 records/);
  const stale = carerVerdict(
    [
      { label: 'Grace', lastSyncMs: now() - 120_000, records: 12 },
      { label: 'Joe', records: 0 },
    ],
    now,
  );
  t.equal(stale.ok, false);
  t.match(stale.detail, /Joe: never synced/);
  t.match(stale.hint, /^Joe not synced in the last 24 h/);
});
