// Golden logs end to end (like gpsd's regression tests): each of the 20 gpsd fixture logs is replayed by
// the GNSS emulator through a real PTY as fast as possible, read by the real SerialGnssSource
// (serialport + parser-readline + decoder), and the epochs are compared with gpsd's .chk TPVs.
import t from 'tap';
import { readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { shortDir } from '@beepkit/firmware-stubs/paths';
import path from 'node:path';
import { readChk, compareWithChk } from '@beepkit/protocol/nmea';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import { SerialGnssSource, type GnssFix, type GnssStateChange } from '@beepkit/device-core/gnss';
import { until, once } from './gnss-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const dir = path.resolve(repoRoot, '../shared/fixtures/gpsd');
/** humminbird-M37 stamps every sentence with its own second; gpsd skips two of those epochs. */
const EXTRA_ALLOWED: Record<string, number> = { 'humminbird-M37.log': 2 };

if (!existsSync(dir)) {
  t.plan(0, `skipped: gpsd fixtures not found at ${dir}`);
} else {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
  t.equal(logs.length, 20, '20 fixture logs');
  const tmp = shortDir('bk-golden-'); // the links stay short whatever the checkout depth
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  for (const f of logs) {
    t.test(f, async (t) => {
      let text = readFileSync(path.join(dir, f), 'latin1');
      if (!text.endsWith('\n')) text += '\n';
      const chk = readChk(readFileSync(path.join(dir, `${f}.chk`), 'latin1'));
      const emu = new GnssEmulator({ autoRun: false, dir: tmp, linkName: f.replace(/\W/g, '_') });
      emu.start();
      const src = new SerialGnssSource({ now: hostNow, path: emu.path, silenceMs: 120_000 });
      const fixes: GnssFix[] = [];
      src.on('fix', (x) => fixes.push(x));
      t.teardown(async () => {
        await src.stop();
        emu.stop();
      });
      const opened = once<GnssStateChange>(src, 'state', (s) => s.state === 'open');
      await src.start();
      await opened;
      // gpsfake forwards only the `# Date:` comments; the emulator does the same by default
      // (parser-readline emits no empty segments)
      const sent = text
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.length > 0 && (!l.trim().startsWith('#') || /^#\s*Date:/.test(l.trim()))).length;
      await emu.replay(text, { speed: 'max' });
      await until(
        () => (src.counters.lines ?? 0) >= sent,
        60_000,
        () => `lines ${src.counters.lines}/${sent}`,
      );
      await src.stop();
      const cmp = compareWithChk(fixes, chk);
      t.same(cmp.missing, [], `all ${cmp.expected} gpsd epochs decoded`);
      t.same(cmp.mismatches, [], 'time, mode, status, lat/lon (1e-7°) match per epoch');
      t.ok(
        cmp.extraFixes.length <= (EXTRA_ALLOWED[f] ?? cmp.timelessFixes),
        `extra fixed epochs ${cmp.extraFixes.length} ≤ gpsd's time-less fixes ${cmp.timelessFixes}`,
      );
      const dropped = text.split('\n').filter((l) => l.trim().startsWith('$')).length - chk.sentences.length;
      t.equal(src.counters.E_CHECKSUM ?? 0, dropped, `bad-checksum lines dropped exactly as gpsd drops them (${dropped})`);
    });
  }
}
