/**
 * `beepkit doctor` beside a running agent (the real `beepkit agent run` on virtual controllers and the
 * GNSS emulator): it reads radio, GNSS and clock from the agent's /status and never opens the
 * controllers the agent owns (no HCI command reaches them from the doctor: their reset counts stay).
 * The agent's start-up log names Node, the CPU and each native module's binary (issue 26 item 3).
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAdvert } from '@beepkit/protocol/frames';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import type { AgentStatus } from '../src/health/index.ts';
import { spawnAgent } from './fixtures/agent-child.ts';
import { byName, doctor } from './fixtures/doctor-child.ts';
import { tempDir } from './net-helpers.ts';

const root = tempDir('doctor-running');
t.teardown(() => root.remove());

t.test('a running agent: doctor reads its /status, leaves its controllers alone', async (t) => {
  const air = new Air({ seed: 26 });
  air.addBeacon({
    id: 'beacon',
    position: { x: 2, y: 0 },
    payload: encodeAdvert({ kind: 'ibeacon', uuid: '11111111-2222-3333-4444-555555555555', major: 1, minor: 2, txPower: -59, flags: 6 }),
    intervalMs: 100,
    type: 0x03,
  });
  const scan = new VirtualController({ air, address: '0a:00:00:00:26:01', position: { x: 0, y: 0 } });
  const adv = new VirtualController({ air, address: '0a:00:00:00:26:02', position: { x: 0.5, y: 0 } });
  const gnss = new GnssEmulator({ intervalMs: 200, coldStart: { noFix: 1, twoD: 0 }, seed: 26 });
  for (const c of [scan, adv]) c.start();
  gnss.start();
  t.teardown(() => {
    scan.stop();
    adv.stop();
    gnss.stop();
    air.stop();
  });
  const data = join(root.dir, 'data');
  const config = join(root.dir, 'agent.yaml');
  writeFileSync(
    config,
    [
      `dataDir: ${data}`,
      `gnss: { type: serial, path: ${gnss.path} }`,
      `radio: { scanner: { uart: ${scan.path} }, advertiser: { uart: ${adv.path} }, dutyCycle: continuous }`,
      'http: { port: 0 }',
    ].join('\n') + '\n',
  );
  const agent = spawnAgent(t, config, { BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: 'doctor-running' });
  const port = await agent.http;
  const token = readFileSync(join(data, 'api-token'), 'utf8').trim();
  // the agent is up when its scanner has heard the beacon and its GNSS has a usable fix
  for (let i = 0; ; i++) {
    const s = (await (await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as AgentStatus;
    if (s.radio.counters.adverts > 0 && s.gnss.usable) break;
    if (i > 300) throw new Error(`agent not ready: ${JSON.stringify({ radio: s.radio, gnss: s.gnss })}`);
    await new Promise((r) => setTimeout(r, 100)); // polling the agent's /status: it has no readiness event
  }
  const platform = agent.output.find((l) => l.includes('"agent: platform"'));
  t.ok(platform, 'the start-up log has the platform line');
  const p = JSON.parse(platform!) as { node: string; arch: string; native: string[] };
  t.equal(p.node, process.version);
  t.equal(p.arch, process.arch);
  t.ok(
    p.native.some((m) => /^serialport > @serialport\/bindings-cpp@[\d.]+: (prebuild|compiled) .+\.node$/.test(m)),
    p.native.join(' | '),
  );
  t.notOk(
    agent.output.some((l) => l.includes('E_PREBUILD')),
    'no missing prebuild here',
  );

  const before = { scan: { ...scan.counters }, adv: { ...adv.counters } };
  const res = await doctor(config, ['--ntp', 'off', '--timeout', '20']);
  const radio = byName(res.checks, 'radio');
  t.match(radio.detail, /^from the running agent: scanner poweredOn \(scanning\), advertiser poweredOn/);
  t.equal(radio.ok, true, radio.hint);
  t.match(byName(res.checks, 'gnss').detail, /^from the running agent: source serial open; fix [23]D/);
  t.match(byName(res.checks, 'clock').detail, /agent: time source/);
  t.equal(scan.counters.resets, before.scan.resets, 'the scanner controller was not reset by the doctor');
  t.equal(adv.counters.resets, before.adv.resets, 'the advertiser controller was not reset by the doctor');
  t.equal(agent.child.exitCode, null, 'the agent still runs');
});
