// Golden logs (pure path): each gpsd fixture decoded in memory and compared with gpsd's .chk.
// The same comparison runs through a real PTY + serialport in firmware-stubs/test/gnss-golden.test.ts.
import t from 'tap';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { decodeNmeaLog, decodeNmea, readChk, compareWithChk, splitSentences } from '@beepkit/protocol/nmea';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const dir = path.resolve(repoRoot, '../shared/fixtures/gpsd');
/** Logs whose sentences carry per-sentence timestamps; gpsd skips some of those epochs (see firmware-stubs/README.md). */
const EXTRA_ALLOWED: Record<string, number> = { 'humminbird-M37.log': 2 };

if (!existsSync(dir)) {
  t.plan(0, `skipped: gpsd fixtures not found at ${dir}`);
} else {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
  t.equal(logs.length, 20, '20 fixture logs');
  for (const f of logs) {
    t.test(f, async (t) => {
      const text = readFileSync(path.join(dir, f), 'latin1');
      const chk = readChk(readFileSync(path.join(dir, `${f}.chk`), 'latin1'));
      const { fixes } = decodeNmeaLog(text);
      const cmp = compareWithChk(fixes, chk);
      t.same(cmp.missing, [], 'every gpsd epoch is decoded');
      t.same(cmp.mismatches, [], 'time, mode, status, lat/lon match per epoch');
      t.ok(
        cmp.extraFixes.length <= (EXTRA_ALLOWED[f] ?? cmp.timelessFixes),
        `extra fixed epochs ${cmp.extraFixes.length} (gpsd printed ${cmp.timelessFixes} fixes without time)`,
      );
      // checksum/framing oracle: exactly the sentences gpsd echoed are accepted
      const accepted: string[] = [];
      for (const line of text.split(/\r\n|\r|\n/)) {
        if (line.trim().startsWith('#')) continue;
        for (const piece of splitSentences(line)) {
          try {
            decodeNmea(piece);
            accepted.push(piece.trim());
          } catch {
            /* dropped, as gpsd drops it */
          }
        }
      }
      t.same(accepted, chk.sentences, 'accepted sentences = sentences gpsd echoed');
    });
  }

  t.test('CLI: beepkit nmea decode', async (t) => {
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'bin/beepkit.js'), 'nmea', 'decode', path.join(dir, 'garmin15x.log')], {
      encoding: 'utf8',
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    t.equal(lines.length, 7);
    t.same(lines[0], {
      time: '2022-10-18T11:32:58.000Z',
      mode: 3,
      status: 2,
      lat: 32.64858,
      lon: -108.37411,
      altMSL: 1577.4,
      speed: 2.727,
      track: 247.1,
      hdop: 1.1,
      satellitesUsed: 8,
    });
    const viaStdin = execFileSync(process.execPath, [path.join(repoRoot, 'bin/beepkit.js'), 'nmea', 'decode', '--date', '2010-07-07', '-'], {
      input: '$GPGGA,005947.00,3715.6616,N,12157.6709,W,1,11,0.8,86.0,M,-30.1,M,,*67\n',
      encoding: 'utf8',
    });
    t.match(JSON.parse(viaStdin) as object, { time: '2010-07-07T00:59:47.000Z', mode: 3, status: 1 });
    const help = execFileSync(process.execPath, [path.join(repoRoot, 'bin/beepkit.js'), 'nmea', 'decode', '--help'], { encoding: 'utf8' });
    t.match(help, /--date/);
  });
}
