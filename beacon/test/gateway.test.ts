/**
 * Beacon ↔ gateway, end to end on a real Gateway (embedded broker):
 *   - `beepkit beacon provision --gateway mqtt://…` registers the venue with the
 *     CA over MQTT from a device id in ca.trustedBeacons; another id is E_DENIED;
 *   - offline: the printed `beepkit gateway venue add … --key-file` registers
 *     the beacon-generated key;
 *   - frames of a running BeaconDaemon (virtual air, noble scanner child), put
 *     into a CaRequest evidence bundle, are accepted by the CA inside the slot
 *     window; the same frame replayed from an older slot is E_REPLAY; a frame
 *     forged without the key is refused (E_TRUST_FRAME);
 *   - the beacon survives a controller power-cycle and re-advertises, and its
 *     frames after the reset are accepted again.
 * The CA clock is injected (set to the frame's slot) so no assertion depends on
 * scheduling latency. The gateway's broker and HTTP ports are kernel-chosen.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeAdvert, decodeVenueFrame, encodeVenueFrame, type VenueFrame } from '@beepkit/protocol/frames';
import type { CaResult } from '@beepkit/protocol/wire';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { powerCycle } from '@beepkit/firmware-stubs/sim';
import { Gateway, resolveConfig } from '@beepkit/gateway/app';
import { hashPassword } from '@beepkit/gateway/broker';
import { VenueRegistry } from '@beepkit/gateway/ca';
import { buildCaRequest, type EvidenceBundle } from '@beepkit/agent/trust';
import { AgentMqtt } from '@beepkit/device-core/mqtt';
import { Host, type HostEvent } from '@beepkit/firmware-stubs/testing';
import { main } from '../../bin/cli.ts';
import { loadVenueKey, registerOverMqtt, type VenueKey } from '../src/index.ts';
import { hostNow } from '@beepkit/protocol/clock';

const here = dirname(fileURLToPath(import.meta.url));
const hostDir = join(here, '..', '..', 'firmware-stubs', 'test', 'fixtures');
const script = (p: string) => relative(hostDir, p);
const TRUSTED = 'beacon-lobby-01';
const VENUE = { name: 'Lobby', region: ['CA', 'Alameda', 'Oakland'], lat: 37.8044, lon: -122.2712, radiusM: 40 };

let clock = hostNow();
const root = t.testdir({ gw: {}, beacon: {}, offline: {}, offgw: {} });
const pw = (id: string) => `pw-${id}`;
const DEVICES = [TRUSTED, 'beacon-rogue-01', 'agent-ca-test-86'];
await writeFile(join(root, 'passwd'), DEVICES.map((d) => `${d}:${hashPassword(pw(d), { iterations: 1000 })}`).join('\n') + '\n', { mode: 0o600 });
await writeFile(join(root, 'trusted.pw'), pw(TRUSTED) + '\n', { mode: 0o600 });
const gw = new Gateway({
  config: resolveConfig({
    dataDir: join(root, 'gw'),
    broker: { embedded: { port: 0, passwordFile: join(root, 'passwd') } },
    http: { port: 0 },
    log: { level: 'silent' },
    ca: { trustedBeacons: [TRUSTED], slotSeconds: 1, slotWindow: 1 },
  }),
  now: () => clock,
});
await gw.start();
t.teardown(() => gw.stop());
const URL = gw.brokerUrl;

const cli = (...args: string[]) => main(['node', 'beepkit', ...args]);
const provisionArgs = (dir: string) => [
  'beacon',
  'provision',
  '--venue',
  VENUE.name,
  '--region',
  VENUE.region.join('/'),
  '--lat',
  String(VENUE.lat),
  '--lon',
  String(VENUE.lon),
  '--radius',
  String(VENUE.radiusM),
  '--data-dir',
  dir,
];
let venue: VenueKey;

t.test('provision --gateway registers over MQTT from a trusted beacon id; others are denied', async (t) => {
  const dir = join(root, 'beacon');
  process.exitCode = 0;
  t.equal(await cli(...provisionArgs(dir), '--gateway', URL, '--device-id', TRUSTED, '--password-file', join(root, 'trusted.pw')), 0);
  venue = await loadVenueKey(join(dir, 'venue.key'), { keyFile: join(dir, 'beacon.kek') });
  const reg = gw.registry.lookup(venue.venueId);
  t.ok(reg, 'the CA knows the venue');
  t.equal(toHex(reg!.key), toHex(venue.key), 'under the beacon-generated key');
  t.match(reg!.venue, { name: 'Lobby', region: VENUE.region, latE6: 37804400, lonE6: -122271200, radiusM: 40, revoked: false });
  const rogue = { venueId: fromHex('0102030405aa'), key: new Uint8Array(32).fill(9) };
  await t.rejects(registerOverMqtt(rogue, VENUE, { url: URL, deviceId: 'beacon-rogue-01', password: pw('beacon-rogue-01'), timeoutMs: 30_000 }), {
    code: 'E_DENIED',
  });
  t.equal(gw.registry.lookup(rogue.venueId), undefined, 'nothing registered for the untrusted id');
  await t.rejects(
    registerOverMqtt(venue, VENUE, { url: URL, deviceId: TRUSTED, password: pw(TRUSTED), timeoutMs: 30_000 }),
    { code: 'E_EXISTS' },
    'no silent re-keying',
  );
});

t.test('offline: the printed gateway command registers the beacon-generated key (venue add --key-file)', async (t) => {
  const dir = join(root, 'offline');
  process.exitCode = 0;
  t.equal(await cli(...provisionArgs(dir)), 0);
  const v = await loadVenueKey(join(dir, 'venue.key'), { keyFile: join(dir, 'beacon.kek') });
  const hex = (await readFile(join(dir, 'venue-key.hex'), 'utf8')).trim();
  t.equal(hex, toHex(v.key));
  const gwDir = join(root, 'offgw');
  t.equal(
    await cli(
      'gateway',
      'venue',
      'add',
      '--data-dir',
      gwDir,
      '--name',
      VENUE.name,
      '--region',
      VENUE.region.join('/'),
      '--lat',
      String(VENUE.lat),
      '--lon',
      String(VENUE.lon),
      '--radius',
      String(VENUE.radiusM),
      '--id',
      toHex(v.venueId),
      '--key-file',
      join(dir, 'venue-key.hex'),
    ),
    0,
  );
  const reg = new VenueRegistry(join(gwDir, 'venues.json')).load().lookup(v.venueId);
  t.equal(toHex(reg!.key), toHex(v.key));
  process.exitCode = 0;
  t.equal(
    await cli(
      'gateway',
      'venue',
      'add',
      '--data-dir',
      gwDir,
      '--name',
      'X',
      '--region',
      'CA',
      '--lat',
      '1',
      '--lon',
      '1',
      '--key-file',
      join(dir, 'venue.key'),
    ),
    2,
    'a non-hex key file is refused',
  );
  process.exitCode = 0;
});

t.test('CA accepts a real beacon frame in the slot window; replay and forgery are refused; the beacon survives a controller reset', async (t) => {
  t.ok(venue, 'registered by the first test');
  const air = new Air({ seed: 86 });
  const b = new VirtualController({ air, address: '11:22:33:44:86:01', position: { x: 0, y: 0 } });
  const s = new VirtualController({ air, address: '11:22:33:44:86:02', position: { x: 2, y: 0 } });
  b.start();
  s.start();
  const beacon = new Host(script(join(here, 'fixtures', 'beacon-child.ts')), { ADV_PORT: b.path, KEY: toHex(venue.key) });
  const scanner = new Host(script(join(here, '..', '..', 'device-core', 'test', 'fixtures', 'radio-child.ts')), { SCAN_PORT: s.path });
  const agent = new AgentMqtt({ url: URL, deviceId: 'agent-ca-test-86', password: pw('agent-ca-test-86'), agentVersion: 'test' });
  agent.on('error', () => {});
  agent.start();
  t.teardown(async () => {
    beacon.kill();
    scanner.kill();
    await agent.stop();
    b.stop();
    s.stop();
    air.stop();
  });
  const ready = await beacon.waitFor((e) => e.ev === 'ready' || e.ev === 'error', 90_000, 'beacon ready');
  t.equal(ready.ev, 'ready', JSON.stringify(ready));
  t.equal(ready.venueId, toHex(venue.venueId));
  await scanner.waitFor((e) => e.ev === 'ready', 90_000, 'scanner ready');
  scanner.send({ op: 'scan' });
  await agent.whenConnected();
  const isVenue = (e: HostEvent) => e.ev === 'advert' && e.addressType === 'random' && decodeAdvert(fromHex(e.data as string)).kind === 'beepkit-venue';

  let n = 0;
  const ask = async (frame: Uint8Array, atMs: number): Promise<CaResult> => {
    clock = atMs;
    const signer = new Ed25519Signer(new Uint8Array(32).fill(++n));
    const evidence = {
      time: atMs,
      venues: [{ frame, rssi: -60, receivedAtMs: atMs }],
      gnss: { timeMs: atMs, latE6: 37804410, lonE6: -122271190, accuracyCm: 800, mode: '3d', satellites: 9, hdopX100: 90 },
    } as unknown as EvidenceBundle; // buildCaRequest reads time, gnss and venues
    const reply = await agent.request('ca-request', buildCaRequest(evidence, signer, new Uint8Array(8).fill(n)), 60_000);
    if (reply.type !== 'ca-response') throw new Error(`unexpected ${reply.type}`);
    return reply.result;
  };
  const inSlot = (f: VenueFrame) => f.slot * 1000 + 400;

  const heard = await scanner.waitFor(isVenue, 90_000, 'a venue frame');
  const raw = fromHex(heard.data as string);
  const f = decodeVenueFrame(raw);
  t.same(toHex(f.venueId), toHex(venue.venueId));
  t.match(await ask(raw, inSlot(f)), { ok: true }, 'accepted inside the slot window');
  t.match(await ask(raw, inSlot(f) + 1000), { ok: true }, 'still inside the window one slot later');
  t.match(await ask(raw, inSlot(f) + 3000), { ok: false, code: 'E_REPLAY' }, 'replayed from an older slot');
  const forged = encodeVenueFrame({ venueId: venue.venueId, slot: f.slot, txPower: f.txPower }, new Uint8Array(32).fill(0x66));
  t.match(await ask(forged, inSlot(f)), { ok: false, code: 'E_TRUST_FRAME' }, 'forged without the key');

  // controller power-cycle: state cleared, Hardware Error to the host; the daemon re-advertises
  const mark = scanner.mark();
  const resets = b.counters.resets;
  powerCycle(b, b.address);
  t.equal(b.counters.resets, resets + 1, 'the beacon controller was power-cycled');
  const after = await scanner.waitFor(
    (e) => isVenue(e) && decodeVenueFrame(fromHex(e.data as string)).slot > f.slot + 1,
    90_000,
    'a venue frame after the reset',
    mark,
  );
  const raw2 = fromHex(after.data as string);
  t.match(await ask(raw2, inSlot(decodeVenueFrame(raw2))), { ok: true }, 'frames after the reset are accepted');
});
