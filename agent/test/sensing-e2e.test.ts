/**
 * Issue 4 acceptance, sensing half, at real-time speed: the real agent child
 * (`beepkit agent run`) on the sim's virtual radios and GNSS, following the
 * sim's clock (control API). The agent walks into café A (~26 s inside),
 * walks 40 m to café B (~18 s inside), leaves; ~75 s of scenario time. Two
 * host-less EN peers (sim crowd members, seeded TEKs) sit 1 m and 6 m from
 * its seat in A.
 * Measured (3 runs, idle-ish 2-core box): entry errors −0.2…+0.2 s, exit
 * errors +0.8…+1.7 s (the 1 dB exit hysteresis plus filter lag); min
 * attenuation ~40 dB (1 m) vs ~55 dB (6 m); ~77 s per run.
 *
 * Checks: two visits, entry and exit each within ±5 s of the truth (the time
 * the trajectory crosses the venue radius); both peers in the encounter log,
 * the 1 m peer with lower attenuation than the 6 m one. Read from the sealed
 * logs the agent writes on stop (its /status only has counts).
 *
 * Visit detector tuning (generated config), from the air model
 * RSSI = txPower − refLoss − 10·n·log10(d), n = 2, refLoss 41 dB, beacons −4 dBm:
 *  - enterRssi = the RSSI at the venue radius (8 m → −63 dBm), so entry starts
 *    as the walker crosses the radius (the agent's Kalman filter lags < 1 s);
 *  - exitRssi = enterRssi − 1 dB (1 dB ≈ 0.9 m ≈ 0.7 s of walking: little bias,
 *    some hysteresis);
 *  - enterFrames 3 in enterWindowMs 2000 (two beacons at 10 Hz: ~0.15 s);
 *  - exitAfterMs 4000: the exit time is the last strong frame, this only sets
 *    how soon the exit is declared (frames come every ~50 ms inside).
 * Scenario air: shadowing σ 2 dB per packet (the filter brings it to < 1 dB).
 * The clock is paused while the agent starts, so scenario time 0 is "ready".
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { enIntervalNumber, intervalIds } from '@beepkit/protocol/rpi';
import { Sim, crowdTek, simulatedVenueId } from '@beepkit/firmware-stubs/sim';
import { validateScenario, simulatedVenueKey, positionAt, toLatLon, type Waypoint } from '@beepkit/firmware-stubs/scenario';
import { loadEncounters, meanAttenuation } from '@beepkit/device-core/encounters';
import { storageKey } from '../src/app/storage.ts';
import { loadVisits } from '@beepkit/device-core/visits';
import type { AgentStatus } from '../src/health/index.ts';
import { spawnAgent } from './fixtures/agent-child.ts';
import { hostNow } from '@beepkit/protocol/clock';

/** The agent's HTTP port: kernel-chosen (`http.port: 0`), read from its ready line; the sim's control port likewise. */
let HTTP_PORT = 0;
/** The agent's data dir: its API token is there (every call but /healthz and /metrics needs it). */
let DATA_DIR = '';
const PASS = 'sensing passphrase';
const ORIGIN = { lat: 51.5007, lon: -0.1246 };
const RADIUS = 8;
const BEACON_TX = -4;
const REF_LOSS = 41;
const ENTER_RSSI = Math.round(BEACON_TX - REF_LOSS - 20 * Math.log10(RADIUS)); // −63 dBm
const TOLERANCE_S = 5;

// agent path (scenario seconds, metres east/north of the origin)
const PATH: Waypoint[] = [
  { t: 0, x: -16, y: 0 },
  { t: 1, x: -16, y: 0 },
  { t: 13, x: 0, y: 0 }, // seat in café A (centre); crosses its radius at t ≈ 7.0
  { t: 28, x: 0, y: 0 }, // leaves: crosses the radius at t ≈ 33.4 (~26 s inside)
  { t: 55, x: 40, y: 0 }, // café B, 40 m east: in at t ≈ 49.6
  { t: 62, x: 40, y: 0 },
  { t: 76, x: 60, y: 0 }, // out of B at t ≈ 67.6 (~18 s inside)
];
const CAFES = [
  { id: 'cafe-a', center: { x: 0, y: 0 } },
  { id: 'cafe-b', center: { x: 40, y: 0 } },
];
const PEERS = [
  { id: 'near-000', crowd: 'near', at: { x: 0, y: -1 }, distance: 1 },
  { id: 'far-000', crowd: 'far', at: { x: 0, y: 6 }, distance: 6 },
];

/** Scenario seconds at which the path crosses the circle, in order (10 ms resolution). */
function crossings(c: { x: number; y: number }, r: number): number[] {
  const out: number[] = [];
  const inside = (s: number) => {
    const p = positionAt(PATH, s);
    return Math.hypot(p.x - c.x, p.y - c.y) <= r;
  };
  let prev = inside(0);
  for (let s = 0.01; s <= PATH[PATH.length - 1]!.t; s += 0.01) {
    const now = inside(s);
    if (now !== prev) out.push(s);
    prev = now;
  }
  return out;
}

function scenario() {
  const sc = validateScenario({
    name: 'sensing-e2e',
    seed: 41,
    origin: ORIGIN,
    duration: 80,
    speed: 1,
    air: { pathLossExponent: 2, referenceLossDb: REF_LOSS, shadowingSigmaDb: 2, sensitivityDbm: -95 },
    venues: CAFES.map((c) => ({
      id: c.id,
      center: c.center,
      radius: RADIUS,
      slotSeconds: 60,
      beacons: [
        { id: `${c.id}-b1`, position: { x: c.center.x, y: 0.5 }, txPower: BEACON_TX },
        { id: `${c.id}-b2`, position: { x: c.center.x, y: -0.5 }, txPower: BEACON_TX },
      ],
    })),
    devices: [
      { id: 'walker', role: 'agent', path: PATH, gnss: { fixAfter: 1, noise: 1 } },
      ...PEERS.map((p) => ({ id: p.crowd, role: 'crowd', count: 1, area: { center: p.at, radius: 1 }, speed: 0 })),
    ],
  });
  // pin the crowd members exactly where the test wants them
  for (const p of PEERS) sc.devices.find((d) => d.id === p.id)!.path = [{ t: 0, ...p.at }];
  return sc;
}

async function status(): Promise<AgentStatus> {
  const token = readFileSync(join(DATA_DIR, 'api-token'), 'utf8').trim();
  const r = await fetch(`http://127.0.0.1:${HTTP_PORT}/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  return (await r.json()) as AgentStatus;
}
async function waitStatus(
  pred: (s: AgentStatus) => boolean,
  label: string,
  ms: number,
  child: { exitCode: number | null },
  output: string[],
): Promise<AgentStatus> {
  const until = hostNow() + ms;
  let last: AgentStatus | undefined;
  while (hostNow() < until) {
    if (child.exitCode !== null) throw new Error(`agent exited (${child.exitCode}) waiting for ${label}:\n${output.slice(-20).join('\n')}`);
    try {
      last = await status();
      if (pred(last)) return last;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timeout: ${label}; last ${JSON.stringify(last)}\n${output.slice(-20).join('\n')}`);
}

// real time: ~75 s of scenario plus the agent's start; above the suite's 120 s default on a loaded machine
t.setTimeout(200_000);

t.test('agent sensing at real time: visits within ±5 s, encounters ordered by distance', { timeout: 190_000 }, async (t) => {
  const dir = t.testdir();
  const sc = scenario();
  // start inside one 10-minute EN interval so each peer keeps one RPI for the whole run
  const startTime = Math.floor(hostNow() / 600_000) * 600_000 + 60_000;
  const sim = new Sim({ scenario: sc, dir, controlPort: 0, startTime });
  await sim.start();
  sim.pause();
  t.teardown(() => sim.stop());
  const walker = sim.device('walker');

  const venues = CAFES.map((c) => {
    const ll = toLatLon(sc.origin, c.center);
    return `{ id: '${toHex(simulatedVenueId(c.id))}', key: '${toHex(simulatedVenueKey(sc, c.id))}', lat: ${ll.lat}, lon: ${ll.lon}, radiusM: ${RADIUS} }`;
  });
  writeFileSync(
    join(dir, 'agent.yaml'),
    [
      `dataDir: ${(DATA_DIR = join(dir, 'data'))}`,
      `gnss: { type: serial, path: ${walker.gnss!.path}, silenceMs: 5000 }`,
      `radio: { scanner: { uart: ${walker.scan!.path} }, advertiser: { uart: ${walker.adv!.path} }, dutyCycle: continuous, watchdogMs: 5000, powerOnTimeoutMs: 60000 }`,
      `venues: [${venues.join(', ')}]`,
      'trust: { tickMs: 500, ttlMs: 60000 }',
      `visits: { enterFrames: 3, enterWindowMs: 2000, enterRssi: ${ENTER_RSSI}, exitRssi: ${ENTER_RSSI - 1}, exitAfterMs: 4000 }`,
      `clock: { url: 'http://127.0.0.1:${sim.controlPort}/clock', pollMs: 200 }`,
      'http: { port: 0 }',
      'log: { level: info }',
    ].join('\n') + '\n',
  );
  const { child, output, exited, http } = spawnAgent(t, join(dir, 'agent.yaml'), { BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: PASS });
  HTTP_PORT = await http;

  await waitStatus((s) => s.radio.scanner === 'poweredOn' && s.radio.scanning, 'agent scanning', 60_000, child, output);
  sim.resume();
  // event: both visits closed (B's exit is declared exitAfterMs after the walker leaves)
  const s = await waitStatus((s) => s.visits.total >= 2 && s.visits.open === 0, 'two closed visits', 150_000, child, output);
  t.equal(s.state, 'running');
  t.ok(s.encounters >= 2, 'encounters counted');
  // the proximity estimator decides in the field: its minutes and the receiver's calibration on /status
  t.match(s.proximity, { tableVersion: '2020-12-14', modelSource: 'fallback', txPower: -8 }, 'status: the receiver calibration');
  t.ok(
    s.proximity && s.proximity.totalMinutes > 0 && s.proximity.closeMinutes <= s.proximity.totalMinutes,
    `status: close ${s.proximity?.closeMinutes} of ${s.proximity?.totalMinutes} min`,
  );
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit (logs sealed)');

  const key = await storageKey(join(dir, 'data'), { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const visits = await loadVisits(join(dir, 'data', 'visits.bin'), key);
  t.equal(visits.length, 2, 'two visits logged');
  const comments: string[] = [];
  for (const c of CAFES) {
    const truth = crossings(c.center, RADIUS);
    t.equal(truth.length, 2, `${c.id}: the path enters and leaves once`);
    const v = visits.find((x) => x.venueId === toHex(simulatedVenueId(c.id)));
    t.ok(v, `${c.id}: visit logged`);
    if (!v || v.exit === undefined) continue;
    const entryErr = (v.entry - startTime) / 1000 - truth[0]!;
    const exitErr = (v.exit - startTime) / 1000 - truth[1]!;
    comments.push(
      `${c.id}: entry truth ${truth[0]!.toFixed(2)} s error ${entryErr.toFixed(2)} s, exit truth ${truth[1]!.toFixed(2)} s error ${exitErr.toFixed(2)} s, frames ${v.frames}`,
    );
    t.ok(Math.abs(entryErr) <= TOLERANCE_S, `${c.id}: entry within ±${TOLERANCE_S} s (${entryErr.toFixed(2)})`);
    t.ok(Math.abs(exitErr) <= TOLERANCE_S, `${c.id}: exit within ±${TOLERANCE_S} s (${exitErr.toFixed(2)})`);
  }

  const log = await loadEncounters(join(dir, 'data', 'encounters.bin'), key);
  const att: number[] = [];
  const closeMs: number[] = [];
  for (const p of PEERS) {
    const rpi = toHex(intervalIds(crowdTek(sc, p.id), enIntervalNumber(Math.floor(startTime / 1000)), 1)[0]!.rpi);
    const e = log.get(rpi);
    t.ok(e, `${p.id} (${p.distance} m) recorded`);
    if (!e) continue;
    att.push(e.minAttenuation, meanAttenuation(e));
    t.ok(
      e.windows.every((w) => typeof w.msClose === 'number'),
      `${p.id}: its windows carry the estimator's close time (log v2)`,
    );
    closeMs.push(e.windows.reduce((a, w) => a + (w.msClose ?? 0), 0));
    comments.push(
      `${p.id} at ${p.distance} m: min attenuation ${e.minAttenuation.toFixed(1)} dB, mean ${meanAttenuation(e).toFixed(1)} dB over ${e.samples} samples`,
    );
  }
  if (att.length === 4) {
    t.ok(att[0]! < att[2]!, '1 m peer: lower min attenuation than the 6 m peer');
    t.ok(att[1]! < att[3]!, '1 m peer: lower mean attenuation than the 6 m peer');
    t.ok(closeMs[0]! >= closeMs[1]!, `1 m peer: at least as much close time as the 6 m peer (${closeMs.join(' / ')} ms)`);
  }
  t.comment(comments.join('\n'));
});
