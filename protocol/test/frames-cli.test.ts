import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/beepkit.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('ble decode prints one JSON object for a valid advert', async (t) => {
  const r = await run(['ble', 'decode', '0201061aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 1);
  t.same(JSON.parse(lines[0]), { kind: 'ibeacon', uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', major: 0, minor: 0, txPower: -59, flags: 6 });
});

t.test('ble decode: venue frame fields', async (t) => {
  const r = await run(['ble', 'decode', '0201061bffffffb1a1b2c3d4e5f601b05515ee807307cbf34b6c8f0fdd99fd']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { kind: 'beepkit-venue', venueId: 'a1b2c3d4e5f6', slot: 28333333, txPower: -18, mac: '807307cbf34b6c8f0fdd99fd' });
});

t.test('ble decode: malformed input exits 2 with a JSON error on stderr', async (t) => {
  for (const hex of ['0201061aff4c', 'zz']) {
    const r = await run(['ble', 'decode', hex]);
    t.equal(r.code, 2, hex);
    t.equal(r.stdout, '', 'nothing on stdout');
    const err = JSON.parse(r.stderr.trim()) as { code: string; message: string };
    t.match(err, { code: /^E_(OVERRUN|FORMAT)$/, message: String });
  }
});

t.test('ble --help lists decode', async (t) => {
  const r = await run(['ble', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /decode <hex>/);
});
