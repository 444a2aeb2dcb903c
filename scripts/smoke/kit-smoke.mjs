#!/usr/bin/env node
// The installed kit, end to end, as a user runs it (plain JS on the host's Node: no tsx):
//   node scripts/smoke/kit-smoke.mjs --bin <beepkit> [--sim-bin <beepkit>] [--apps agent,gateway,beacon,wearable]
//        [--label <name>] [--timeout <s>] [--skip-cli]
// --bin is the `beepkit` under test (an installed package's bin, run by whatever `node` is first on PATH: the
// host's, or a qemu wrapper, scripts/ci-arm.sh); --sim-bin runs `beepkit sim` on the host (default --bin).
// Checks: --help; the Exposure Notification key-schedule vector (protocol/vectors); `doctor --help` when the
// CLI has it; then on the sim (scripts/smoke/kit.yaml) each app in --apps until it is ready, and the agent
// until /status shows both radios on, a GNSS fix and adverts heard. Prints "ok N - …" / "not ok N - …" lines,
// the times in a "# timings {…}" line, and tap's closing "# { total: N, pass: N, fail: N, skip: N }" (the
// line .ci/run tallies). Exit status 0 when all pass. --skip-cli: the apps only (no --help, vector, doctor).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const BIN = opt('bin');
if (!BIN) {
  process.stderr.write('usage: kit-smoke.mjs --bin <beepkit> [--sim-bin <beepkit>] [--apps agent,gateway,beacon,wearable] [--label L] [--timeout s]\n');
  process.exit(64);
}
const SIM_BIN = opt('sim-bin', BIN);
const APPS = opt('apps', 'agent,gateway,beacon,wearable').split(',').filter(Boolean);
const LABEL = opt('label', 'kit');
const TIMEOUT_MS = Number(opt('timeout', '120')) * 1000;
const dir = mkdtempSync(join(tmpdir(), 'bk-smoke-'));
const env = { ...process.env };
for (const k of Object.keys(env)) if (k.startsWith('BEEPKIT_') || k === 'HCI_CHANNEL_USER') delete env[k];
env.BEEPKIT_EXIT_WITH_PARENT = '1';

let n = 0;
const tally = { pass: 0, fail: 0, skip: 0 };
const timings = { label: LABEL };
const result = (ok, what, detail) => {
  n++;
  tally[ok ? 'pass' : 'fail']++;
  process.stdout.write(`${ok ? 'ok' : 'not ok'} ${n} - ${LABEL}: ${what}${detail ? ` # ${detail}` : ''}\n`);
  return ok;
};
const skip = (what, why) => {
  n++;
  tally.skip++;
  process.stdout.write(`ok ${n} - ${LABEL}: ${what} # SKIP ${why}\n`);
};
const secs = (t0) => Math.round((performance.now() - t0) / 100) / 10;

/** Runs `bin args…` to its end: { code, out, err }. */
function run(bin, argv, timeoutMs = TIMEOUT_MS) {
  return new Promise((res) => {
    const c = spawn(bin, argv, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', (e) => (err += String(e)));
    c.on('close', (code) => {
      clearTimeout(t);
      res({ code, out, err });
    });
  });
}

/** Starts `bin args…`; resolves with the child and its first stdout JSON line with ready: true (or a reason). */
function start(bin, argv, what) {
  const c = spawn(bin, argv, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const exited = new Promise((res) => c.on('close', (code, sig) => res(code ?? sig)));
  const ready = new Promise((res) => {
    const t = setTimeout(() => res({ why: `not ready within ${TIMEOUT_MS / 1000} s` }), TIMEOUT_MS);
    let buf = '';
    let all = '';
    c.stdout.on('data', (d) => {
      buf += d;
      all += d;
      for (let i; (i = buf.indexOf('\n')) >= 0;) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      // the ready line: one JSON line (agent, gateway, beacon) or pretty-printed (wearable)
      if (/"ready":\s*true/.test(all)) {
        clearTimeout(t);
        const http = /"http":\s*(\d+)/.exec(all);
        res({ line: { ready: true, ...(http ? { http: Number(http[1]) } : {}) } });
      }
    });
    c.stderr.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
    exited.then((code) => {
      clearTimeout(t);
      res({ why: `${what} exited (${code}) before ready: ${lines.slice(-5).join(' | ').slice(-600)}` });
    });
  });
  return { c, ready, exited, lines };
}

async function stop(p) {
  if (p.c.exitCode === null && p.c.signalCode === null) p.c.kill('SIGTERM');
  const t = setTimeout(() => p.c.kill('SIGKILL'), 15_000);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

async function main() {
  let t0 = performance.now();
  if (args.includes('--skip-cli')) return apps();
  const help = await run(BIN, ['--help']);
  timings.helpS = secs(t0);
  result(help.code === 0 && /\bagent\b/.test(help.out) && /\bsim\b/.test(help.out), 'beepkit --help', `exit ${help.code}, ${timings.helpS} s${help.code ? `: ${help.err.slice(-300)}` : ''}`);

  const v = JSON.parse(readFileSync(join(ROOT, 'protocol', 'vectors', 'exposure-notification.json'), 'utf8')).inputs;
  t0 = performance.now();
  const keys = await run(BIN, ['keys', 'rpi', '--tek', v.tek, '--enin', String(v.enin), '--metadata', v.metadata, '--address']);
  const [enin, rpi, aem, addr] = keys.out.trim().split(/\s+/);
  const want = `${v.enin} ${v.rpi} ${v.aem} ${v.bleAddress}`;
  const got = `${enin} ${rpi} ${aem} ${String(addr).replaceAll(':', '').toLowerCase()}`;
  result(keys.code === 0 && got === want, 'EN key schedule vector (keys rpi)', got === want ? `${secs(t0)} s` : `got ${got}, want ${want}: ${keys.err.slice(-300)}`);

  if (/\bdoctor\b/.test(help.out)) {
    const d = await run(BIN, ['doctor', '--help']);
    result(d.code === 0, 'beepkit doctor --help', `exit ${d.code}`);
  } else skip('beepkit doctor --help', 'no doctor command in this build');
  return apps();
}

/** The apps in --apps on the sim. */
async function apps() {
  if (APPS.length === 0) return;
  const simDir = join(dir, 'sim');
  const sim = start(SIM_BIN, ['sim', join(ROOT, 'scripts', 'smoke', 'kit.yaml'), '--dir', simDir, '--control-port', '0'], 'sim');
  const devices = {};
  sim.c.stdout.on('data', () => {
    for (const l of sim.lines) {
      try {
        const j = JSON.parse(l);
        if (j.id && j.role) devices[j.id] = j;
      } catch {
        // a log line
      }
    }
  });
  await waitUntil(() => devices.kit && devices.door && devices.wearer, 30_000);
  if (!result(!!(devices.kit && devices.door && devices.wearer), 'beepkit sim on the host', `${Object.keys(devices).join(', ')}`)) return stop(sim);
  const rig = parse(readFileSync(join(simDir, 'rig.yaml'), 'utf8'));
  try {
    // side by side: each has its own controllers, ports and data dir
    const runs = [];
    if (APPS.includes('agent')) runs.push(agent(devices.kit, rig));
    if (APPS.includes('gateway')) runs.push(app('gateway run', ['gateway', 'run', '--config', gatewayConfig()]));
    if (APPS.includes('beacon')) runs.push(beacon(devices.door));
    if (APPS.includes('wearable')) mkdirSync(join(dir, 'wearable'), { recursive: true, mode: 0o700 });
    if (APPS.includes('wearable')) runs.push(app('wearable run', ['wearable', 'run', '--data-dir', join(dir, 'wearable'), '--label', 'Wearer', '--uart', devices.wearer.hciAdvertise]));
    await Promise.all(runs);
  } finally {
    await stop(sim);
  }
}

async function waitUntil(pred, ms, everyMs = 100) {
  const until = performance.now() + ms;
  while (!pred() && performance.now() < until) await new Promise((r) => setTimeout(r, everyMs));
  return pred();
}

/** Starts one app, waits for its ready line, stops it: one result. */
async function app(what, argv) {
  const t0 = performance.now();
  const p = start(BIN, argv, what);
  const r = await p.ready;
  const s = secs(t0);
  const code = await stop(p);
  result(!!r.line, what, r.line ? `ready in ${s} s, stopped (${code})` : r.why);
}

function gatewayConfig() {
  const f = join(dir, 'gateway.yaml');
  writeFileSync(join(dir, 'gw-passwd'), '');
  writeFileSync(f, stringify({
    dataDir: join(dir, 'gateway'),
    broker: { embedded: { host: '127.0.0.1', port: 0, passwordFile: join(dir, 'gw-passwd') } },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
  }));
  return f;
}

async function beacon(door) {
  const data = join(dir, 'beacon');
  const p = await run(BIN, ['beacon', 'provision', '--venue', 'Smoke door', '--region', 'scotland/city-of-edinburgh/edinburgh', '--lat', '55.95', '--lon', '-3.19', '--radius', '10', '--data-dir', data]);
  if (!result(p.code === 0, 'beacon provision', `exit ${p.code}${p.code ? `: ${p.err.slice(-300)}` : ''}`)) return;
  const f = join(dir, 'beacon.yaml');
  writeFileSync(f, stringify({ dataDir: data, hci: { uart: door.hciAdvertise }, httpPort: 0 }));
  await app('beacon run', ['beacon', 'run', '--config', f, '--trust-clock']);
}

async function agent(kit, rig) {
  const cfgFile = join(dir, 'agent.yaml');
  const data = join(dir, 'agent-data');
  writeFileSync(join(dir, 'agent.key'), Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString('hex') + '\n', { mode: 0o600 });
  writeFileSync(cfgFile, stringify({
    dataDir: data,
    keystore: { keyFile: join(dir, 'agent.key') },
    gnss: { type: 'serial', path: kit.gnss, maxAgeMs: 120_000, silenceMs: 5000 },
    radio: { scanner: { uart: kit.hciScan }, advertiser: { uart: kit.hciAdvertise }, dutyCycle: 'continuous', powerOnTimeoutMs: 90_000 },
    venues: (rig.venues ?? []).map((x) => ({ id: x.venueId, key: x.venueKey, lat: x.center.lat, lon: x.center.lon, radiusM: Math.max(1, Math.ceil(x.radius)), name: x.name })),
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
  }), { mode: 0o600 });
  const t0 = performance.now();
  const p = start(BIN, ['agent', 'run', '--config', cfgFile], 'agent run');
  const r = await p.ready;
  timings.agentReadyS = secs(t0);
  if (!result(!!r.line, 'agent run: ready', r.line ? `${timings.agentReadyS} s` : r.why)) return stop(p);
  const token = readFileSync(join(data, 'api-token'), 'utf8').trim();
  let last;
  const isFix = (s) => !!s?.gnss?.usable && (s.gnss.mode ?? 0) >= 2;
  const isUp = (s) => !!(s?.radio?.scanning && s.radio.advertising && isFix(s) && (s.scan?.accepted ?? 0) > 0);
  const until = performance.now() + TIMEOUT_MS;
  while (!isUp(last) && performance.now() < until && p.c.exitCode === null) {
    await new Promise((res) => setTimeout(res, 250));
    try {
      const res = await globalThis.fetch(`http://127.0.0.1:${r.line.http}/status`, { headers: { authorization: `Bearer ${token}` }, signal: globalThis.AbortSignal.timeout(10_000) });
      if (res.ok) last = await res.json();
    } catch {
      // not answering yet
    }
    if (isFix(last) && timings.agentFixS === undefined) timings.agentFixS = secs(t0);
  }
  const up = isUp(last);
  timings.agentUpS = secs(t0);
  const brief = last ? `scanning ${last.radio?.scanning}, advertising ${last.radio?.advertising}, gnss mode ${last.gnss?.mode} usable ${last.gnss?.usable}, adverts ${last.scan?.accepted}/${last.scan?.total}` : 'no /status';
  result(up, 'agent run: both radios on, a GNSS fix, adverts heard', `${timings.agentUpS} s (fix at ${timings.agentFixS ?? '-'} s): ${brief}`);
  const code = await stop(p);
  result(code === 0, 'agent run: graceful stop on SIGTERM', `exit ${code}`);
}

try {
  await main();
} catch (e) {
  result(false, 'smoke run', String(e?.stack ?? e).slice(0, 500));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`# timings ${JSON.stringify(timings)}\n`);
process.stdout.write(`# { total: ${n}, pass: ${tally.pass}, fail: ${tally.fail}, skip: ${tally.skip} }\n`);
process.exitCode = tally.fail ? 1 : 0;
