/**
 * The agent on virtual hardware, run as `beepkit agent run` in a child process
 * (noble/bleno keep their process alive): an Air with two VirtualControllers
 * (scanner, advertiser), a host-less venue beacon sending real venue frames and
 * a GNSS emulator at the café. Checks start-up, fixes, venue frames (the visit they open:
 * app-memory.test.ts, in-process on MemoryRadio),
 * trust, /status and /metrics, spoofing (position jump → E_TRUST_DISAGREE, then
 * trust regained), GNSS unplug/replug and a controller reset, privacy of the
 * logs and metrics, and a clean stop.
 * No broker here: the certificate step is covered with the gateway elsewhere.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol/bytes';
import { encodeVenueFrame, slotOf } from '@beepkit/protocol/frames';
import { intervalIds, enIntervalNumber } from '@beepkit/protocol/rpi';
import { KeystoreFile } from '@beepkit/device-core/keys';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { GnssEmulator } from '@beepkit/firmware-stubs/gnss';
import type { AgentStatus } from '../src/health/index.ts';
import { spawnAgent } from './fixtures/agent-child.ts';
import { hostNow } from '@beepkit/protocol/clock';

const CAFE = { lat: 51.5007, lon: -0.1246 };
/** The agent's HTTP port: kernel-chosen (`http.port: 0`), read from its ready line. */
let PORT = 0;
const venueId = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6);
const venueKey = new Uint8Array(32).map((_, i) => i * 7 + 1);

/** The agent's API token (made at its first start in the data dir): /status needs it, /metrics does not. */
let tokenFile = '';
async function get(path: string): Promise<string> {
  const headers: Record<string, string> = path === '/metrics' ? {} : { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
  const r = await fetch(`http://127.0.0.1:${PORT}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.text();
}
async function waitStatus(pred: (s: AgentStatus) => boolean, label: string, ms = 90_000): Promise<AgentStatus> {
  const until = hostNow() + ms;
  let last: AgentStatus | undefined;
  while (hostNow() < until) {
    try {
      last = JSON.parse(await get('/status')) as AgentStatus;
      if (pred(last)) return last;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timeout: ${label}; last ${JSON.stringify(last)}`);
}

t.test('agent on virtual hardware', { timeout: 240_000 }, async (t) => {
  const dir = t.testdir();
  tokenFile = join(dir, 'data', 'api-token');
  const air = new Air({ seed: 5, origin: CAFE });
  const scanC = new VirtualController({ air, address: '0a:00:00:00:10:01', position: { x: 0, y: 0 } });
  const advC = new VirtualController({ air, address: '0a:00:00:00:10:02', position: { x: 0.5, y: 0 } });
  scanC.start();
  advC.start();
  air.addBeacon({
    id: 'venue',
    position: { x: 2, y: 0 },
    intervalMs: 100,
    payloadFn: (now) => encodeVenueFrame({ venueId, slot: slotOf(now / 1000), txPower: -4 }, venueKey),
  });
  const gnss = new GnssEmulator({ trajectory: () => ({ ...CAFE, alt: 20 }), seed: 3, coldStart: { noFix: 1, twoD: 1 }, intervalMs: 500 });
  gnss.start();
  writeFileSync(
    join(dir, 'agent.yaml'),
    [
      `dataDir: ${join(dir, 'data')}`,
      `gnss: { type: serial, path: ${gnss.path}, silenceMs: 1500 }`,
      `radio: { scanner: { uart: ${scanC.path} }, advertiser: { uart: ${advC.path} }, dutyCycle: continuous, watchdogMs: 2000, powerOnTimeoutMs: 60000 }`,
      `venues: [{ id: ${toHex(venueId)}, key: ${toHex(venueKey)}, lat: ${CAFE.lat + 0.00001}, lon: ${CAFE.lon}, radiusM: 30 }]`,
      'trust: { tickMs: 250, ttlMs: 60000 }',
      'visits: { enterFrames: 3, enterWindowMs: 10000, exitAfterMs: 60000 }',
      'http: { port: 0 }',
      'log: { level: debug }',
    ].join('\n') + '\n',
  );
  const { child, output, exited, http } = spawnAgent(t, join(dir, 'agent.yaml'), { BEEPKIT_AGENT_KEYSTORE__PASSPHRASE: 'café passphrase' });
  PORT = await http;
  t.teardown(() => {
    gnss.stop();
    scanC.stop();
    advC.stop();
    air.stop();
  });

  let s = await waitStatus((s) => s.radio.scanner === 'poweredOn' && s.radio.advertising && s.gnss.usable, 'radio on, advertising, gnss fix');
  t.equal(s.state, 'running');
  // venue frames opening a visit: app-memory.test.ts, in-process; trust needs the frames heard here
  s = await waitStatus((s) => s.trust.state === 'trusted', 'trusted');
  t.ok((s.scan.byKind['beepkit-venue'] ?? 0) > 0, 'venue frames heard');
  t.same(s.scan.rejects, {}, 'genuine frames are not rejected');
  t.equal(s.trust.reason, 'agree');
  t.equal(s.certificate.today, false, 'no broker configured: no certificate');
  const metrics = await get('/metrics');
  t.match(metrics, /beepkit_agent_trust_state\{state="trusted"\} 1/);
  t.match(metrics, /beepkit_agent_radio_state\{role="scanner",state="poweredOn"\} 1/);
  t.match(metrics, /beepkit_agent_adverts_by_kind_total\{kind="beepkit-venue"\} \d+/);

  // spoofing: the GNSS position jumps 3 km; trust goes, with the reason
  gnss.inject({ kind: 'position-jump', north: 3000, east: 0, epochs: 12 });
  s = await waitStatus((s) => s.trust.state === 'lost' && s.trust.reason === 'E_TRUST_DISAGREE', 'trust lost on a position jump');
  t.ok((s.trust.counters.E_TRUST_DISAGREE ?? 0) > 0);
  s = await waitStatus((s) => s.trust.state === 'trusted', 'trust regained after the fault');
  t.equal(s.trust.reason, 'agree', 'regained');

  // GNSS unplugged and back; controller reset under the host
  gnss.unplug();
  s = await waitStatus((s) => s.gnss.state === 'reconnecting' || s.gnss.state === 'silent', 'gnss loss reported');
  t.equal(s.state, 'running', 'gnss loss survived');
  gnss.replug();
  s = await waitStatus((s) => s.gnss.state === 'open' && s.gnss.usable, 'gnss back');
  const before = s.scan.total;
  scanC.resetState();
  s = await waitStatus((s) => (s.radio.counters.watchdogRestarts ?? 0) >= 1 && s.scan.total > before + 5, 'scan restarted after a controller reset');
  t.equal(s.state, 'running', 'survived');

  // privacy: nothing of our own identifiers or position in logs or metrics
  const metrics2 = await get('/metrics');
  const ks = await KeystoreFile.open(join(dir, 'data', 'keystore.bkks'), { passphrase: 'café passphrase' });
  const keys = ks.dayKeys();
  const enin = enIntervalNumber(Math.floor(hostNow() / 1000));
  const ids = intervalIds(keys.tek, enin - 1, 3);
  const secrets = [
    toHex(keys.pseudonym).slice(0, 16),
    toHex(keys.tek),
    ...ids.map((i) => toHex(i.rpi)),
    ...ids.flatMap((i) => [toHex(i.address), [...i.address].map((b) => b.toString(16).padStart(2, '0')).join(':')]),
    '51.50',
    '-0.124',
    '5130.0',
  ];
  const logs = output.join('\n').toLowerCase();
  for (const x of secrets) {
    t.notOk(logs.includes(x.toLowerCase()), `log free of ${x.slice(0, 6)}…`);
    t.notOk(metrics2.toLowerCase().includes(x.toLowerCase()), `metrics free of ${x.slice(0, 6)}…`);
  }

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');
  t.match(output.join('\n'), /agent stopped/);
});
