/**
 * A second controller nobody here wrote: BlueZ's btvirt emulator (Debian
 * bluez-test-tools, unpacked by ../shared/tools/btvirt/setup.sh, AF_ALG faked
 * by its LD_PRELOAD shim), one LE controller per socat PTY. btvirt listens on
 * fixed /tmp paths, so it runs in a private mount namespace whose /tmp is this
 * test's own directory (no clash with any other btvirt on the machine).
 *
 * The sensing path on it, with the unchanged agent radio and beacon daemon:
 * the agent advertises EN by standard HCI commands (btvirt knows no vendor
 * command of ours), the beacon its venue frames, and a scanning agent hears
 * both as non-connectable adverts from random, non-resolvable addresses, the
 * payload byte for byte. btvirt reports RSSI 127 (not available): frames, PDU
 * types and address types are checked here, not distances.
 */
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { decodeAdvert, decodeVenueFrame } from '@beepkit/protocol/frames';
import { buildEnAdvert } from '@beepkit/device-core/radio';
import { Host } from '@beepkit/firmware-stubs/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hostDir = join(root, 'firmware-stubs', 'test', 'fixtures');
const SETUP = join(root, '..', 'shared', 'tools', 'btvirt', 'setup.sh');

function which(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why btvirt cannot run here, or false. */
function unavailable(): false | string {
  if (process.getuid?.() !== 0) return "needs root (a private mount namespace for btvirt's fixed socket paths)";
  for (const b of ['unshare', 'socat', 'gcc']) if (!which(b)) return `${b} not installed`;
  if (!existsSync(SETUP)) return `no ${SETUP}`;
  return false;
}

const until = async (ok: () => boolean, ms: number, what: string): Promise<void> => {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

t.test('sensing on BlueZ btvirt: EN and venue adverts by standard HCI, heard as such', { skip: unavailable(), timeout: 180_000 }, async (t) => {
  let w: string;
  try {
    w = execFileSync('bash', [SETUP, join(tmpdir(), 'beepkit-btvirt')], { encoding: 'utf8', timeout: 120_000 })
      .trim()
      .split('\n')
      .at(-1)!;
  } catch (e) {
    t.comment(`btvirt setup failed (apt-get download bluez-test-tools): ${(e as Error).message.split('\n')[0]}`);
    t.fail('btvirt could not be set up');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bk-btvirt-'));
  copyFileSync(join(w, 'usr', 'bin', 'btvirt'), join(dir, 'btvirt'));
  copyFileSync(join(w, 'algshim.so'), join(dir, 'algshim.so'));
  const procs: ChildProcess[] = [];
  const hosts: Host[] = [];
  t.teardown(() => {
    for (const h of hosts) h.kill();
    for (const p of procs.reverse())
      if (p.exitCode === null && p.pid) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          p.kill('SIGKILL');
        }
      }
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (cmd: string, args: string[]) => {
    const p = spawn(cmd, args, { stdio: 'ignore', detached: true });
    procs.push(p);
    return p;
  };
  run('unshare', ['-m', 'sh', '-c', `mount --bind ${dir} /tmp && LD_PRELOAD=/tmp/algshim.so exec /tmp/btvirt -s`]);
  await until(() => existsSync(join(dir, 'bt-server-le')), 10_000, 'btvirt server socket');
  const pty = (name: string) => {
    run('socat', [`PTY,link=${join(dir, name)},raw,echo=0`, `UNIX-CONNECT:${join(dir, 'bt-server-le')}`]);
    return join(dir, name);
  };
  const [agentAdv, beaconAdv, scanner] = [pty('adv'), pty('bcn'), pty('scan')];
  await until(() => [agentAdv, beaconAdv, scanner].every((p) => existsSync(p)), 10_000, 'socat PTYs');

  const script = (p: string) => relative(hostDir, join(root, p));
  const key = new Uint8Array(32).fill(0x24);
  const a = new Host(script('device-core/test/fixtures/radio-child.ts'), { ADV_PORT: agentAdv });
  const b = new Host(script('beacon/test/fixtures/beacon-child.ts'), { ADV_PORT: beaconAdv, KEY: toHex(key) });
  const s = new Host(script('device-core/test/fixtures/radio-child.ts'), { SCAN_PORT: scanner });
  hosts.push(a, b, s);
  const readyA = await a.waitFor((e) => e.ev === 'ready' || e.ev === 'error', 90_000, 'agent advertiser on btvirt');
  t.equal(readyA.ev, 'ready', `agent advertiser powered on (${JSON.stringify(readyA)})`);
  t.comment(`btvirt's LE Read Advertising Physical Channel Tx Power: ${readyA.txPower} dBm`);
  t.equal(typeof readyA.txPower, 'number', 'the TX power read from btvirt');
  const readyB = await b.waitFor((e) => e.ev === 'ready' || e.ev === 'error', 90_000, 'beacon on btvirt');
  t.equal(readyB.ev, 'ready', `beacon advertising (${JSON.stringify(readyB)})`);
  await s.waitFor((e) => e.ev === 'ready', 90_000, 'scanner on btvirt');
  s.send({ op: 'scan' });
  await s.waitFor((e) => e.ev === 'done' && e.op === 'scan', 30_000, 'scanning');

  // btdev has no air: it hands each advert to the controllers scanning at the moment advertising is enabled
  const rpi = 'c3'.repeat(16);
  a.send({ op: 'en', rpi, aem: '40000000', address: '2b:24:24:24:24:01' });
  const started = await a.waitFor((e) => (e.ev === 'done' && e.op === 'en') || e.ev === 'error', 30_000, 'EN advertising started');
  t.equal(started.ev, 'done', `EN advertising by standard HCI accepted by btvirt (${JSON.stringify(started)})`);
  // btdev has no air model: an advert reaches the scanners when advertising is (re-)enabled, so re-assert it
  const isEn = (e: { ev: string; data?: unknown }) => e.ev === 'advert' && typeof e.data === 'string' && e.data.includes('6ffd' + rpi.slice(0, 8));
  const again = setInterval(() => a.send({ op: 'en', rpi, aem: '40000000', address: '2b:24:24:24:24:01' }), 1000);
  const en = await s.waitFor(isEn, 60_000, 'the EN advert heard').finally(() => clearInterval(again));
  t.equal(en.data, toHex(buildEnAdvert(fromHex(rpi), fromHex('40000000'))), 'EN advert byte for byte');
  t.equal(en.address, '2b:24:24:24:24:01', 'from the non-resolvable private address');
  t.equal(en.addressType, 'random', 'address type random');
  t.equal(en.connectable, false, 'ADV_NONCONN_IND');
  t.equal(en.rssi, 127, 'btvirt: RSSI not available');

  const kindOf = (hex: unknown): string | null => {
    try {
      return decodeAdvert(fromHex(String(hex))).kind;
    } catch {
      return null;
    }
  };
  const venue = await s.waitFor((e) => e.ev === 'advert' && kindOf(e.data) === 'beepkit-venue', 60_000, 'a venue frame heard');
  const f = decodeVenueFrame(fromHex(String(venue.data)));
  t.equal(f.venueId.length, 6, 'venue frame decodes');
  t.equal(venue.addressType, 'random');
  t.equal(parseInt(String(venue.address).slice(0, 2), 16) >> 6, 0, 'venue frame from a non-resolvable private address');
  t.equal(venue.connectable, false, 'ADV_NONCONN_IND');
  t.same(
    [...a.events, ...b.events, ...s.events].filter((e) => e.ev === 'error'),
    [],
    'no radio error on either side',
  );
});
