/**
 * Trace-driven air, end to end (issue 15): a shared recording (pc-ng, hand to hand, 2 m then 4 m)
 * replayed through the virtual controller, real noble and the running agent. The agent's encounter log
 * must match `proximity replay` on the same trace: the same buckets and close minutes within 1 %.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '@beepkit/protocol/bytes';
import { enIntervalNumber, intervalIds } from '@beepkit/protocol/rpi';
import { hostNow } from '@beepkit/protocol/clock';
import { Sim, crowdTek } from '@beepkit/firmware-stubs/sim';
import { validateScenario } from '@beepkit/firmware-stubs/scenario';
import { loadEncounters } from '@beepkit/device-core/encounters';
import { storageKey } from '../src/app/storage.ts';
import { parseTrace, replay } from '../src/proximity/index.ts';
import type { AgentStatus } from '../src/health/index.ts';
import { spawnAgent } from './fixtures/agent-child.ts';

const PASS = 'trace air passphrase';
/** -8 dBm assumed TX − (−79 dBm + UNIT) = 50 dB at 1 m. */
const UNIT = 21;
const HH = fileURLToPath(new URL('../../../shared/fixtures/rssi/pc-ng+rss_smartphone/HandHand/RSS_humanHH.csv', import.meta.url));

/**
 * 40 s at 2 m then 30 s at 4 m of the gryphonelab phone, 2 samples a second (the first reading of each half second).
 * The agent credits each sample the real gap since the previous one, so the air's delivery jitter at each change of
 * decision (0.1–0.2 s under load) counts against the 1 %: 40 s at 2 m give one close run of 52 s (with 20 s, the
 * estimator's close run was 17 s in two pieces and the jitter 1–2 % of it).
 */
function recordedTrace(): string {
  const rows = readFileSync(HH, 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .filter((f) => f[0] === 'gryphonelab' && f[2] !== '');
  const segment = (cm: string, seconds: number): number[] => {
    const r = rows
      .filter((f) => f[5] === cm)
      .map((f) => ({ t: Number(f[1]), rssi: Number(f[2]) }))
      .sort((a, b) => a.t - b.t);
    const out: number[] = [];
    let last = -Infinity;
    for (const x of r) {
      if (x.t - last < 0.5) continue;
      last = x.t;
      out.push(x.rssi);
      if (out.length >= seconds * 2) break;
    }
    return out;
  };
  const values = [...segment('200', 40), ...segment('400', 30)];
  return ['time,rssi,rx,tx', ...values.map((v, i) => `${1_790_000_000 + i / 2},${v},walker,peer`)].join('\n') + '\n';
}

t.setTimeout(240_000);

t.test('a recorded trace through the air, noble and the agent matches proximity replay', { timeout: 230_000 }, async (t) => {
  const dir = t.testdir();
  const tracePath = join(dir, 'trace.csv');
  const text = recordedTrace();
  writeFileSync(tracePath, text);
  const rows = parseTrace(text);
  t.equal(rows.length, 140, 'the trace: 140 samples');
  const sc = validateScenario({
    name: 'trace-air',
    seed: 15,
    origin: { lat: 51.5007, lon: -0.1246 },
    duration: 120,
    speed: 1,
    venues: [],
    devices: [
      { id: 'walker', role: 'agent', path: [{ t: 0, x: 0, y: 0 }], gnss: { enabled: false } },
      {
        id: 'peer',
        role: 'crowd',
        count: 1,
        area: { center: { x: 1, y: 0 }, radius: 1 },
        speed: 0,
        rssiTrace: { file: tracePath, heardBy: 'walker', startAt: 2 },
      },
    ],
  });
  // start inside one 10-minute EN interval so the peer keeps one RPI for the whole run
  const startTime = Math.floor(hostNow() / 600_000) * 600_000 + 60_000;
  const sim = new Sim({ scenario: sc, dir, controlPort: 0, startTime });
  await sim.start();
  sim.pause();
  t.teardown(() => sim.stop());
  const walker = sim.device('walker');
  writeFileSync(
    join(dir, 'agent.yaml'),
    [
      `dataDir: ${join(dir, 'data')}`,
      // this unit's correction puts the phone's 1 m median (−79 dBm) at 50 dB, as `agent calibrate` would
      `radio: { scanner: { uart: ${walker.scan!.path} }, dutyCycle: continuous, watchdogMs: 5000, powerOnTimeoutMs: 60000, rssiCorrection: ${UNIT} }`,
      `clock: { url: 'http://127.0.0.1:${sim.controlPort}/clock', pollMs: 200 }`,
      'http: { port: 0 }',
      'log: { level: warn }',
    ].join('\n') + '\n',
  );
  const { child, output, exited, http } = spawnAgent(t, join(dir, 'agent.yaml'), { BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: PASS });
  const port = await http;
  const token = readFileSync(join(dir, 'data', 'api-token'), 'utf8').trim();
  const status = async (): Promise<AgentStatus> =>
    (await (await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as AgentStatus;
  const waitStatus = async (pred: (s: AgentStatus) => boolean, what: string, ms: number): Promise<AgentStatus> => {
    const until = hostNow() + ms;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`agent exited waiting for ${what}:\n${output.slice(-20).join('\n')}`);
      const s = await status().catch(() => undefined);
      if (s && pred(s)) return s;
      if (hostNow() > until) throw new Error(`timeout: ${what}; last ${JSON.stringify(s?.scan)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await waitStatus((s) => s.radio.scanner === 'poweredOn' && s.radio.scanning, 'agent scanning', 60_000);
  sim.resume();
  const en = (s: AgentStatus): number => s.scan.byKind['exposure-notification'] ?? 0;
  await waitStatus((s) => en(s) >= rows.length, 'every recorded sample received', 150_000);
  t.ok(sim.traces?.done, 'the air reported the whole trace');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit (log sealed)');

  const key = await storageKey(join(dir, 'data'), { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const log = await loadEncounters(join(dir, 'data', 'encounters.bin'), key);
  const rpi = toHex(intervalIds(crowdTek(sc, 'peer-000'), enIntervalNumber(Math.floor(startTime / 1000)), 1)[0]!.rpi);
  const e = log.get(rpi);
  t.ok(e, 'the peer is in the encounter log');
  if (!e) return;
  t.equal(e.samples, rows.length, 'each recorded sample once');
  // the agent assumes TX -8 dBm for a peer whose AEM it cannot read yet; no model, the unit's correction
  const ref = replay(parseTrace(text.replace('time,rssi,rx,tx', 'time,rssi,rx,tx,tx_power,rssi_correction').replace(/,peer\n/g, `,peer,-8,${UNIT}\n`)))
    .pairs[0]!;
  const agentClose = e.windows.reduce((a, w) => a + (w.msClose ?? 0), 0) / 60_000;
  const agentBuckets = [0, 1, 2, 3].map((b) => e.windows.reduce((a, w) => a + w.msByBucket[b]!, 0) / 60_000);
  t.comment(
    `agent: close ${agentClose.toFixed(3)} min, buckets ${agentBuckets.map((x) => x.toFixed(3)).join('/')}; replay: close ${ref.minutes.close}, buckets ${ref.buckets.join('/')}`,
  );
  t.ok(ref.minutes.close > 0 && ref.minutes.close < ref.minutes.total, 'the trace has close and far samples');
  t.ok(Math.abs(agentClose - ref.minutes.close) <= 0.01 * ref.minutes.close, 'close minutes within 1 %');
  t.same(
    agentBuckets.map((x) => x > 0),
    ref.buckets.map((x) => x > 0),
    'the same buckets',
  );
  agentBuckets.forEach((x, b) =>
    t.ok(Math.abs(x - ref.buckets[b]!) <= 0.01 * ref.minutes.total + 1e-9, `bucket ${b}: ${x.toFixed(3)} vs ${ref.buckets[b]} min`),
  );
});
