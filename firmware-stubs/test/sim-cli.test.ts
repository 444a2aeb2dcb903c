/**
 * `beepkit sim` as a user runs it: JSON lines out, exit 0 after --duration or
 * SIGTERM, exit 2 with the E_CONFIG message for a broken scenario, --list.
 * Its control API listens on a kernel-chosen port (--control-port 0), read from the rig file.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (args: string[], onStdout?: (text: string, kill: () => void) => void) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['bin/beepkit.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, () => child.kill('SIGTERM'));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

t.test('café for 3 s: one JSON line per device, exit 0', async (t) => {
  const dir = t.testdir();
  const r = await run(['sim', 'firmware-stubs/scenarios/cafe.yaml', '--duration', '3', '--dir', dir]);
  t.equal(r.code, 0, r.stderr.slice(-500));
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.same(
    lines.map((l) => l.id),
    ['alice', 'bob', 'carol', 'dave', 'grace'],
  );
  t.same(Object.keys(lines[0]), ['id', 'role', 'label', 'gnss', 'hciScan', 'hciAdvertise', 'position']);
  t.match(lines[0], { role: 'agent', gnss: /\/gnss-alice$/, hciScan: /^\/dev\/pts\/\d+$/, position: { lat: Number, lon: Number } });
  t.ok(Buffer.byteLength(lines[0].gnss) < 128, `the GNSS link fits gpsd's path limit whatever --dir is (${lines[0].gnss})`);
  t.notOk(existsSync(lines[0].gnss), 'links removed at exit');
  t.match(r.stderr, /sim stopped/);
});

t.test('SIGTERM stops cleanly with exit 0; the control port answers while running', async (t) => {
  let clock: { speed?: number } = {};
  const dir = t.testdir();
  const r = await run(['sim', 'firmware-stubs/scenarios/gnss-spoof.yaml', '--control-port', '0', '--speed', '5', '--dir', dir], (out, kill) => {
    if (out.includes('\n') && !clock.speed) {
      clock = { speed: -1 };
      const control = /^control: "?([^"\s]+)"?$/m.exec(readFileSync(join(dir, 'rig.yaml'), 'utf8'))![1];
      fetch(`${control}/clock`)
        .then((res) => res.json())
        .then(
          (c) => (clock = c as typeof clock),
          () => {},
        )
        .finally(kill);
    }
  });
  t.equal(r.code, 0, r.stderr.slice(-500));
  t.equal(clock.speed, 5, '--speed overrides the scenario');
  t.equal(r.stdout.trim().split('\n').length, 1, 'one device');
});

t.test('a broken scenario exits 2 with the E_CONFIG message', async (t) => {
  const bad = join(t.testdir(), 'bad.yaml');
  writeFileSync(bad, 'name: bad\norigin: { lat: 95, lon: 0 }\nduration: 10\ndevices: []\n');
  const r = await run(['sim', bad]);
  t.equal(r.code, 2);
  t.match(r.stderr, /E_CONFIG: scenario origin\.lat: must be ≤ 90/);
  t.equal(r.stdout, '');
});

t.test('--list shows the shipped scenarios', async (t) => {
  const r = await run(['sim', '--list']);
  t.equal(r.code, 0);
  for (const name of ['cafe', 'crowd', 'gnss-spoof']) t.match(r.stdout, new RegExp(`^${name} `, 'm'));
});
