/**
 * The diagnostician's runbook (gateway/README.md "Diagnosis runbook"), command
 * for command, each step a separate `beepkit` process that sees only the files
 * the earlier steps wrote: gateway up (embedded broker, kernel-chosen ports,
 * temp dirs); venue and diagnostician added; challenge; the patient agent's
 * consent; verify; endorse into the running gateway over MQTT; the venue
 * reported infected; solver run into the gateway; the exposed agent (running,
 * following the feed) alerted; the venue's sign-off turns it clean.
 *
 * Fixture: the agents' venue visits (what their radios record at a venue) are
 * written into their data dirs with the agent's own visit store (saveVisits),
 * instead of running radios: the radio path is covered by the HIL suites.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../src/broker/index.ts';
import { secretOf, storageKey } from '@beepkit/agent/app';
import { saveVisits } from '@beepkit/device-core/visits';
import { loadConfig } from '@beepkit/agent/config';
import { hostNow } from '@beepkit/protocol/clock';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { venueId8 } from '@beepkit/protocol/frames';
import { gatewayRequest } from '../src/app/ops-client.ts';

const BIN = fileURLToPath(new URL('../../bin/beepkit.js', import.meta.url));

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Every command line run, in order (checked against gateway/README.md at the end). */
const ran: string[] = [];

function beepkit(args: string[], timeoutMs = 60_000): Promise<Run> {
  ran.push(args.join(' '));
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('BEEPKIT_AGENT_') || k.startsWith('BEEPKIT_GATEWAY_')) delete env[k];
    const c = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** A long-running child: resolves `line(re)` when a stdout line matches. */
function daemon(args: string[]): { child: ChildProcess; lines: string[]; line(re: RegExp, timeoutMs?: number): Promise<string>; stop(): Promise<void> } {
  ran.push(args.join(' '));
  // a timed-out test file takes its gateway and agents with it (bin/cli.ts exitWithParent)
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BEEPKIT_EXIT_WITH_PARENT: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve(l: string): void }[] = [];
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(l);
      for (const w of [...waiters])
        if (w.re.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    lines,
    line(re, timeoutMs = 90_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line ${re} within ${timeoutMs} ms; last: ${lines.slice(-5).join(' | ')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const k = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(k);
    },
  };
}

const json = (r: Run): Record<string, unknown> => JSON.parse(r.out) as Record<string, unknown>;

// some twenty CLI processes in turn: ~40 s on a quiet machine, two minutes and more on a loaded one (tap's default
// per-file timeout is 120 s, which a loaded CI run once hit in the teardown)
t.setTimeout(360_000);

t.test('diagnosis runbook: every step from the shipped commands, gateway running', { timeout: 330_000 }, async (t) => {
  const dir = t.testdir();
  const gwDir = join(dir, 'gw');
  const pw = (name: string): string => {
    const p = randomBytes(12).toString('hex');
    writeFileSync(join(dir, `${name}.pw`), p + '\n', { mode: 0o600 });
    return p;
  };
  const users = {
    'dr-smith-01': pw('dr'),
    'solver-0001': pw('solver'),
    'venue-cafe-01': pw('venue'),
    'kit-patient': pw('patient'),
    'kit-exposed': pw('exposed'),
  };
  writeFileSync(
    join(dir, 'passwd'),
    Object.entries(users)
      .map(([u, p]) => `${u}:${hashPassword(p, { iterations: 1000 })}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  const gwYaml = join(dir, 'gateway.yaml');
  writeFileSync(
    gwYaml,
    stringify({
      dataDir: gwDir,
      log: { level: 'info' },
      http: { host: '127.0.0.1', port: 0 },
      broker: { embedded: { host: '127.0.0.1', port: 0, passwordFile: join(dir, 'passwd') } },
      feed: { publishers: ['solver-0001'] },
    }),
  );

  // venue registered (offline, before the gateway starts)
  const venue = await beepkit([
    'gateway',
    'venue',
    'add',
    '-c',
    gwYaml,
    '--name',
    'Cafe',
    '--region',
    'scotland/edinburgh/edinburgh/cafe',
    '--lat',
    '55.95',
    '--lon',
    '-3.19',
    '--key-out',
    join(dir, 'venue.key'),
  ]);
  t.equal(venue.code, 0, `venue add: ${venue.err}`);
  const venueId = (json(venue).venue as { id: string }).id;

  // 1. gateway up
  const gw = daemon(['gateway', 'run', '-c', gwYaml]);
  t.teardown(() => gw.stop());
  const ready = JSON.parse(await gw.line(/"ready":true/)) as { broker: string };
  const broker = ready.broker;
  const keys = json(await beepkit(['gateway', 'keys', '-c', gwYaml])) as { caPublicKey: string; gatewayPublicKey: string; solverKeyFile: string };
  const via = (user: keyof typeof users, file: string) => ['--broker', broker, '--username', user, '--password-file', join(dir, `${file}.pw`)];

  // 2. diagnostician added
  const dr = await beepkit(['gateway', 'diagnostician', 'add', 'drsmith', '-c', gwYaml, '--out', join(dir, 'dr.json')]);
  t.equal(dr.code, 0, `diagnostician add: ${dr.err}`);
  const drPub = json(dr).publicKey as string;

  // the two agents: the patient and an exposed visitor of the same venue, the evening before (23:00-23:10 UTC of the
  // day before the run's), whatever the hour the test runs at: a consent given the next day must still carry it
  const dayStart = Math.floor(hostNow() / 86_400_000) * 86_400_000;
  const visit = { venueId, entry: dayStart - 3_600_000, exit: dayStart - 3_000_000, minAttenuation: 40, frames: 12 };
  // the risk model the exposed kit is configured with: β fitted from labelled contacts (seeded)
  let seed = 42;
  const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rows = ['rssi,contact_minutes,checkin_gap_minutes,material,infected'];
  for (let i = 0; i < 400; i++) {
    const rssi = -95 + 50 * rnd();
    const minutes = 60 * rnd();
    const z = -1 + 0.04 * (rssi + 70) + 0.05 * minutes;
    rows.push(
      `${rssi.toFixed(1)},${minutes.toFixed(1)},${(120 * rnd()).toFixed(1)},${['aerosol', 'copper', 'plastic'][i % 3]},${rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0}`,
    );
  }
  writeFileSync(join(dir, 'contacts.csv'), rows.join('\n') + '\n');
  const fit = await beepkit(['risk', 'fit', join(dir, 'contacts.csv'), '--out', join(dir, 'beta.json')]);
  t.equal(fit.code, 0, `risk fit: ${fit.err}`);

  const agentYaml = async (name: 'kit-patient' | 'kit-exposed', file: string): Promise<string> => {
    const a = join(dir, name);
    mkdirSync(a, { recursive: true, mode: 0o700 });
    writeFileSync(join(a, 'agent.key'), randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    const path = join(a, 'agent.yaml');
    writeFileSync(
      path,
      stringify({
        dataDir: join(a, 'data'),
        deviceId: name,
        keystore: { keyFile: join(a, 'agent.key') },
        gnss: { type: 'none' },
        broker: { url: broker, username: name, passwordFile: join(dir, `${file}.pw`) },
        anchors: { caPublicKey: keys.caPublicKey, gatewayPublicKey: keys.gatewayPublicKey },
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'info' },
        ...(name === 'kit-exposed' ? { risk: { betaFile: join(dir, 'beta.json') } } : {}),
      }),
      { mode: 0o600 },
    );
    const cfg = loadConfig(path);
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    await saveVisits(join(cfg.dataDir, 'visits.bin'), [visit], await storageKey(cfg.dataDir, await secretOf(cfg)));
    return path;
  };
  const patientYaml = await agentYaml('kit-patient', 'patient');
  const exposedYaml = await agentYaml('kit-exposed', 'exposed');
  const exposed = daemon(['agent', 'run', '--config', exposedYaml]);
  t.teardown(() => exposed.stop());
  await exposed.line(/"ready":true/);

  // 3. challenge issued
  const ch = await beepkit(['diagnose', 'challenge', '--key', join(dir, 'dr.json'), '--out', join(dir, 'challenge.json')]);
  t.equal(ch.code, 0, `challenge: ${ch.err}`);
  t.match(JSON.parse(readFileSync(join(dir, 'challenge.json'), 'utf8')), { type: 'beepkit-challenge', version: 1 });

  // 4. the patient agent consents
  const co = await beepkit([
    'agent',
    'consent',
    '--config',
    patientYaml,
    '--diagnostician',
    drPub,
    '--challenge',
    join(dir, 'challenge.json'),
    '--visits',
    '--out',
    join(dir, 'consent.json'),
  ]);
  t.equal(co.code, 0, `consent: ${co.err}`);
  t.match(JSON.parse(readFileSync(join(dir, 'consent.json'), 'utf8')), { type: 'beepkit-consent', version: 1, visits: 1 });

  // a file of the wrong type: one typed error naming the expected type and its command
  const wrong = await beepkit(['diagnose', 'verify', '--key', join(dir, 'dr.json'), join(dir, 'challenge.json')]);
  t.equal(wrong.code, 2, 'wrong file: exit 2');
  t.match(wrong.err, /E_FILE_TYPE.*beepkit-consent.*beepkit agent consent/);

  // 5. the diagnostician verifies and endorses into the running gateway
  const ver = await beepkit(['diagnose', 'verify', '--key', join(dir, 'dr.json'), join(dir, 'consent.json')]);
  t.equal(ver.code, 0, `verify: ${ver.err}`);
  t.match(json(ver), { ok: true, visits: 1 });
  const noKey = await beepkit(['diagnose', 'endorse', '--key', join(dir, 'dr.json'), join(dir, 'consent.json'), '--ledger', join(gwDir, 'ledger')]);
  t.equal(noKey.code, 2, '--ledger without --ledger-key: exit 2');
  t.match(noKey.err, /E_CONFIG/);
  const en = await beepkit([
    'diagnose',
    'endorse',
    '--key',
    join(dir, 'dr.json'),
    join(dir, 'consent.json'),
    '--out',
    join(dir, 'endorsement.json'),
    ...via('dr-smith-01', 'dr'),
  ]);
  t.equal(en.code, 0, `endorse: ${en.err}`);
  t.match(en.err, /"delivered":"broker"/);
  t.match(JSON.parse(readFileSync(join(dir, 'endorsement.json'), 'utf8')), { type: 'beepkit-endorsement', version: 1 });
  const again = await beepkit(['diagnose', 'submit', join(dir, 'endorsement.json'), ...via('dr-smith-01', 'dr')]);
  t.equal(again.code, 2, 'the same endorsement twice: refused');
  t.match(again.err, /E_REPLAY/);

  // 6. the venue is infected
  const st1 = await beepkit(['venue', 'status', venueId, ...via('kit-patient', 'patient')]);
  t.equal(st1.code, 0, `venue status: ${st1.err}`);
  t.match(json(st1), { state: 'infected' });
  const pre = await beepkit(['agent', 'venue-status', venueId, '--config', exposedYaml]);
  t.equal(pre.code, 0, `agent venue-status: ${pre.err}`);
  t.match(json(pre), { state: 'infected' }, 'a kit checks the venue before a visit');

  // 7. solver run, into the running gateway
  const sol = await beepkit([
    'solver',
    'run',
    '--ledger',
    join(gwDir, 'ledger'),
    '--key',
    keys.solverKeyFile,
    '--ca',
    keys.caPublicKey,
    '--state',
    join(dir, 'solver-state.json'),
    ...via('solver-0001', 'solver'),
  ]);
  t.equal(sol.code, 0, `solver run: ${sol.err}`);
  t.match(sol.err, /"endorsements":1/, 'the solver saw the endorsement');
  const entry = encodeNotificationEntry({ type: 'venue-exposure', venue: venueId8(venueId), start: 1, end: 2 });
  await t.rejects(
    gatewayRequest({ broker, username: 'kit-exposed', passwordFile: join(dir, 'exposed.pw') }, 'notification-submit', {
      type: 'notification-submit',
      entries: [entry],
    }),
    { code: 'E_DENIED' },
    'notification entries only from feed.publishers',
  );

  // 8. the exposed agent is alerted (its visit overlaps the endorsed one)
  const alert = await exposed.line(/"alert"/);
  t.match(alert, /venue/i, `alert: ${alert}`);
  const p = (JSON.parse(alert) as { alert: { probability?: number } }).alert.probability;
  t.ok(typeof p === 'number' && p > 0 && p < 1, `the alert carries the configured model's probability (${p})`);

  // 9. the venue's sign-off turns it clean
  const so = await beepkit(['venue', 'signoff', venueId, '--key-file', join(dir, 'venue.key'), ...via('venue-cafe-01', 'venue')]);
  t.equal(so.code, 0, `signoff: ${so.err}`);
  t.match(so.err, /"state":"clean"/);
  const st2 = await beepkit(['venue', 'status', venueId, ...via('kit-patient', 'patient')]);
  t.match(json(st2), { state: 'clean' });
  writeFileSync(join(dir, 'forged.key'), randomBytes(32).toString('hex') + '\n');
  const bad = await beepkit(['venue', 'signoff', venueId, '--key-file', join(dir, 'forged.key'), ...via('venue-cafe-01', 'venue')]);
  t.equal(bad.code, 2, 'a sign-off with another key: refused');
  t.match(bad.err, /E_SIGNATURE/);
});

t.test('gateway/README.md "Diagnosis runbook" lists these commands, in this order', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /### Diagnosis runbook[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const cmds = block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('beepkit '))
    .map((l) =>
      l
        .slice(8)
        .split(/\s+/)
        .filter((w, i, a) => a.slice(0, i + 1).every((x) => !/^[-<$#]/.test(x)))
        .join(' '),
    );
  t.ok(cmds.length >= 10, `${cmds.length} commands in the README runbook`);
  let at = 0;
  for (const c of cmds) {
    const hit = ran.findIndex((r, i) => i >= at && (r === c || r.startsWith(c + ' ')));
    t.ok(hit >= 0, `README: beepkit ${c} (run by the test in this order)`);
    if (hit >= 0) at = hit + 1;
  }
});
