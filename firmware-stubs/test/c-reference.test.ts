/**
 * The C reference (firmware-stubs/c/, C99 on libsodium, no heap) against the
 * published vectors (protocol/vectors/*.json): built with gcc -std=c99
 * -Wall -Wextra -Werror -pedantic, then its host driver derives the day keys,
 * the EN RPI/AEM and advert, the venue frame, the geodata, both TraceCodes,
 * the signed batch and the UploadBatch message from the vectors' fixed inputs,
 * and every output must equal the vector byte for byte. Also: duplicate
 * intervals are refused, and the library's code size is reported (host, and
 * Cortex-M4 when arm-none-eabi-gcc is installed).
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missing } from '../../scripts/tools.ts';
import { toHex } from '@beepkit/protocol';
import { decodeGeodata } from '@beepkit/protocol/geodata';
import { fixed } from '@beepkit/protocol/vectors';

const C_DIR = fileURLToPath(new URL('../c/', import.meta.url));
const VEC = fileURLToPath(new URL('../../protocol/vectors/', import.meta.url));
type V = { context: Record<string, string | number>; inputs: Record<string, unknown>; valid: { hex: string }[] };
const vec = (name: string): V => JSON.parse(readFileSync(`${VEC}${name}.json`, 'utf8')) as V;

function libsodiumMissing(): false | string {
  const m = missing('gcc') || missing('pkg-config');
  if (m) return m;
  try {
    execFileSync('pkg-config', ['--exists', 'libsodium']);
    return false;
  } catch {
    return `libsodium-dev not installed (apt-get install -y libsodium-dev)${process.env.CI === 'true' ? '; CI=true: this skip fails the run' : ''}`;
  }
}

/** Text bytes of the library built for a Cortex-M4 when Debian's gcc-arm-none-eabi is installed (optional: not in CI). */
function armSize(dir: string, src: string[]): number | undefined {
  try {
    execFileSync('arm-none-eabi-gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  // only libsodium's headers (the host's /usr/include would pull in glibc's)
  const inc = join(dir, 'arm-include');
  mkdirSync(inc);
  const sodium = execFileSync('pkg-config', ['--variable=includedir', 'libsodium'], { encoding: 'utf8' }).trim();
  symlinkSync(join(sodium, 'sodium.h'), join(inc, 'sodium.h'));
  symlinkSync(join(sodium, 'sodium'), join(inc, 'sodium'));
  const objs = src.map((f, i) => {
    const o = join(dir, `arm-${i}.o`);
    execFileSync('arm-none-eabi-gcc', [
      '-mcpu=cortex-m4',
      '-mthumb',
      '-std=c99',
      '-Os',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-pedantic',
      '-isystem',
      inc,
      '-c',
      f,
      '-o',
      o,
    ]);
    return o;
  });
  const size = execFileSync('arm-none-eabi-size', objs, { encoding: 'utf8' });
  return size
    .trim()
    .split('\n')
    .slice(1)
    .reduce((a, l) => a + Number(l.trim().split(/\s+/)[0]), 0);
}

/** Runs the driver once over `lines`; resolves its output lines. */
function drive(bin: string, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out.split('\n').slice(0, lines.length)) : reject(new Error(`driver exited ${code}`))));
    c.stdin.end(lines.join('\n') + '\n');
  });
}

const skip = libsodiumMissing();
if (skip && process.env.CI === 'true') throw new Error(skip);

t.test('the C reference reproduces the published vectors byte for byte', { skip }, async (t) => {
  const dir = t.testdir();
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libsodium'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  const src = ['beepkit.c', 'aes128.c'].map((f) => join(C_DIR, f));
  const bin = join(dir, 'bk-vectors');
  execFileSync('gcc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2', '-o', bin, ...src, join(C_DIR, 'test_vectors.c'), ...flags]);
  execFileSync('gcc', ['-std=c99', '-Os', '-c', ...src], { cwd: dir });
  const size = execFileSync('size', [join(dir, 'beepkit.o'), join(dir, 'aes128.o')], { encoding: 'utf8' });
  const text = size
    .trim()
    .split('\n')
    .slice(1)
    .reduce((a, l) => a + Number(l.trim().split(/\s+/)[0]), 0);
  t.comment(`library code size (host x86-64, gcc -Os, without libsodium): ${text} bytes of text`);
  const arm = armSize(dir, src);
  if (arm !== undefined) t.comment(`library code size (Cortex-M4 Thumb-2, arm-none-eabi-gcc -Os): ${arm} bytes of text`);

  const keys = vec('key-schedule');
  const days = keys.inputs.days as Record<string, string | number>[];
  const en = vec('exposure-notification');
  const venue = vec('venue-frame');
  const tc = vec('tracecode');
  const batch = vec('batch');
  const g = decodeGeodata(Buffer.from(tc.inputs.geodata as string, 'hex'));
  const vi = venue.inputs;
  const ti = tc.inputs;
  const [i0, i1] = batch.inputs.intervals as number[];
  // each record of the batch carries the geodata of its own stay (SPEC.md §7.4: one record per stay, the interval in which it began)
  const stay = new Map((batch.inputs.records as { interval: number; geodata: string }[]).map((r) => [r.interval, r.geodata]));
  const seal = (i: number, geodata = stay.get(i) ?? (ti.geodata as string)): string =>
    `seal ${ti.prefix} ${ti.ephemeralPrivateKey} ${ti.ephemeralPublicKey} ${ti.solverPublicKey} ${i} ${toHex(fixed(`salt-${i}`, 8))} ${geodata}`;
  const lines = [
    `keys ${keys.inputs.master} ${keys.inputs.fromDay} ${days[0].day}`,
    `keys ${keys.inputs.master} ${keys.inputs.fromDay} ${days[1].day}`,
    `en ${en.inputs.tek} ${en.inputs.enin} ${en.inputs.metadata}`,
    `venue ${vi.venueKey} ${vi.venueId} ${vi.slot} ${vi.txPower}`,
    `venue ${vi.venueKey} ${vi.venueId} ${(vi.slot as number) - 1} ${vi.txPower}`,
    `geodata ${g.level} ${g.start} ${g.end} ${Math.round(g.lat * 1e7)} ${Math.round(g.lon * 1e7)} ${g.accuracy} ${g.sources} ${g.perturbed ? 1 : 0} ${g.venue ? toHex(g.venue) : '-'}`,
    seal(ti.interval as number, ti.geodata as string),
    seal(i0),
    seal(i1),
  ];
  const out = await drive(bin, lines);
  const k = (d: Record<string, string | number>): string =>
    [d.chainKey, d.signingSeed, d.pseudonym, d.tek, d.ephemeralPrivateKey, d.ephemeralPublicKey].join(' ');
  t.equal(out[0], k(days[0]), 'key schedule: the first day (chain key = master)');
  t.equal(out[1], k(days[1]), 'key schedule: one ratchet step');
  t.equal(out[2], `${en.inputs.rpi} ${en.inputs.aem} ${en.valid[1].hex}`, 'EN RPI, AEM and advert (AES-128 in C)');
  t.equal(out[3], venue.valid[0].hex, 'venue frame, current slot');
  t.equal(out[4], venue.valid[1].hex, 'venue frame, previous slot');
  t.equal(out[5], ti.geodata, 'geodata');
  t.equal(out[6], tc.valid[1].hex, 'TraceCode');

  const cert = batch.inputs.certificate as string;
  const [b, up, dup] = await drive(bin, [
    `batch ${days[0].day} ${ti.ephemeralPublicKey} ${cert} ${days[0].signingSeed} ${out[7]}${out[8]}`,
    `upload ${batch.inputs.correlationId} ${batch.valid[0].hex}`,
    `batch ${days[0].day} ${ti.ephemeralPublicKey} ${cert} ${days[0].signingSeed} ${out[7]}${out[7]}`,
  ]);
  t.equal(b, batch.valid[0].hex, 'signed batch of two records sealed in C');
  t.equal(up, batch.inputs.uploadBatchMessage, 'UploadBatch message');
  t.equal(dup, 'ERR -1', 'the same interval twice is refused (BK_E_RANGE)');
});
