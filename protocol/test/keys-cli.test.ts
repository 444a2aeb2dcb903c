import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/beepkit.js', import.meta.url));
const en = JSON.parse(readFileSync(new URL('./vectors/exposure-notification.json', import.meta.url), 'utf8'));
const tv = JSON.parse(readFileSync(new URL('./vectors/tracecode.json', import.meta.url), 'utf8'));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('beepkit keys rpi prints the EN vectors', async (t) => {
  const r = await run(['keys', 'rpi', '--tek', en.tek, '--enin', String(en.rollingStartIntervalNumber), '--count', '3', '--metadata', en.metadata]);
  t.equal(r.code, 0, r.stderr);
  t.same(
    r.stdout.trim().split('\n'),
    en.intervals.slice(0, 3).map((i: { enin: number; rpi: string; aem: string }) => `${i.enin} ${i.rpi} ${i.aem}`),
  );
  const bad = await run(['keys', 'rpi', '--tek', 'abcd', '--enin', '1']);
  t.equal(bad.code, 2);
  t.equal(JSON.parse(bad.stderr).code, 'E_FORMAT');
});

t.test('beepkit tracecode inspect', async (t) => {
  const r = await run(['tracecode', 'inspect', tv.records[0].hex]);
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.equal(j.fingerprint, tv.fingerprint);
  t.equal(j.recordHash, tv.records[0].recordHash);
  t.equal(j.sizes.total, 89);
  const bad = await run(['tracecode', 'inspect', tv.records[0].hex.slice(0, 40)]);
  t.equal(bad.code, 2);
  t.same(Object.keys(JSON.parse(bad.stderr)).sort(), ['code', 'message']);
  t.equal(JSON.parse(bad.stderr).code, 'E_TRUNCATED');
});
