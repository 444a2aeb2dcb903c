/**
 * The sim's air seen by a real noble host (child process) on a device's scan
 * controller: verified venue frames in the café, EN adverts from a crowd,
 * ble-off silencing a crowd member, hci-reset stopping the host's scan until
 * it scans again. The control API listens on a kernel-chosen port.
 */
import t, { type Test } from 'tap';
import { decodeAdvert, slotOf, verifyVenueFrame } from '@beepkit/protocol/frames';
import { enIntervalNumber, intervalIds } from '@beepkit/protocol/rpi';
import { toHex } from '@beepkit/protocol/bytes';
import { loadScenarioFile, parseScenario, simulatedVenueKey } from '../src/scenario/index.ts';
import { Sim, crowdTek, simulatedVenueId } from '../src/sim/index.ts';
import { Host, type HostEvent } from './fixtures/child.ts';

const api = async (port: number, path: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
};
const kindOf = (e: HostEvent) => {
  try {
    return decodeAdvert(Buffer.from(e.data as string, 'hex'));
  } catch {
    return undefined;
  }
};

async function scanner(t: Test, port: string): Promise<Host> {
  const host = new Host('sim-scanner.ts', { PORT: port });
  t.teardown(() => host.kill());
  await host.waitFor((e) => e.ev === 'state' && e.state === 'poweredOn', 60_000, 'noble poweredOn');
  host.send({ op: 'scan' });
  return host;
}

t.test('café: noble on a device scan controller receives venue frames that verify under the simulated key', async (t) => {
  const scenario = loadScenarioFile(new URL('../scenarios/cafe.yaml', import.meta.url).pathname);
  const sim = new Sim({ scenario, dir: t.testdir(), controlPort: 0 });
  t.teardown(() => sim.stop());
  await sim.start();
  await api(sim.controlPort!, '/devices/alice/move', { x: 0, y: 1 });
  const host = await scanner(t, sim.device('alice').scan!.path);
  // the café's frames (Harbour View's lounge beacon is on the same air, further away)
  const cafeId = toHex(simulatedVenueId('beep-cafe'));
  const isCafe = (e: HostEvent): boolean => {
    const k = kindOf(e);
    return k?.kind === 'beepkit-venue' && toHex(k.venueId) === cafeId;
  };
  t.ok(
    scenario.venues.some((v) => v.id === 'beep-cafe'),
    'the café is a venue of the scenario',
  );
  const ev = await host.waitFor((e) => e.ev === 'adv' && isCafe(e), 60_000, 'venue frame');
  const frame = kindOf(ev)!;
  if (frame.kind !== 'beepkit-venue') throw new Error('unreachable');
  t.equal(toHex(frame.venueId), toHex(simulatedVenueId('beep-cafe')), 'venue id derived from the venue id string');
  const nowSlot = slotOf(Math.floor(sim.clock.now() / 1000), 60);
  t.doesNotThrow(
    () => verifyVenueFrame(frame, simulatedVenueKey(scenario, 'beep-cafe'), { nowSlot, window: 2 }),
    'MAC verifies, slot fresh on the scenario clock',
  );
  t.ok(nowSlot * 60 * 1000 >= sim.clock.startTime, 'slot from scenario time');
  host.send({ op: 'exit' });
});

const CROWD = `
name: tiny-crowd
seed: 5
origin: { lat: 55.95, lon: -3.19 }
duration: 600
speed: 10
devices:
  - { id: walker, role: agent, gnss: { enabled: false }, path: [ { t: 0, x: 0, y: 0 } ] }
  - { id: crowd, role: crowd, count: 3, area: { center: { x: 0, y: 0 }, radius: 5 }, speed: 0 }
`;

t.test('crowd: EN adverts from crowd members; ble-off silences one; hci-reset stops the scan until the host scans again', async (t) => {
  const scenario = parseScenario(CROWD);
  const sim = new Sim({ scenario, dir: t.testdir(), controlPort: 0 });
  t.teardown(() => sim.stop());
  await sim.start();
  // RPIs of each member for the current and next EN interval (the test may straddle a rotation)
  const rpiOwner = new Map<string, string>();
  const enin = enIntervalNumber(Math.floor(sim.clock.now() / 1000));
  for (const m of ['crowd-000', 'crowd-001', 'crowd-002']) {
    for (const ids of intervalIds(crowdTek(scenario, m), enin, 2)) rpiOwner.set(toHex(ids.rpi), m);
  }
  const ownerOf = (e: HostEvent): string | undefined => {
    const a = e.ev === 'adv' ? kindOf(e) : undefined;
    return a?.kind === 'exposure-notification' ? (rpiOwner.get(toHex(a.rpi)) ?? 'stranger') : undefined;
  };
  const host = await scanner(t, sim.device('walker').scan!.path);
  for (const m of ['crowd-000', 'crowd-001', 'crowd-002']) {
    await host.waitFor((e) => ownerOf(e) === m, 60_000, `EN advert of ${m}`);
  }
  t.equal(
    host.count((e) => ownerOf(e) === 'stranger'),
    0,
    'every EN advert carries an RPI of a seeded member TEK',
  );

  const off = await api(sim.controlPort!, '/faults', { device: 'crowd-000', kind: 'ble-off' });
  t.equal(off.status, 200);
  t.equal(off.json.kind, 'ble-off');
  // flush what was in flight, then watch a window of other members' adverts
  const others = (from: number, n: number) =>
    host.waitFor(() => host.events.slice(from).filter((e) => ownerOf(e) && ownerOf(e) !== 'crowd-000').length >= n, 60_000, 'other adverts', from);
  await others(host.mark(), 5);
  const mark = host.mark();
  await others(mark, 20);
  t.equal(host.events.slice(mark).filter((e) => ownerOf(e) === 'crowd-000').length, 0, 'no advert of the silenced member');

  const reset = await api(sim.controlPort!, '/faults', { device: 'walker', kind: 'hci-reset' });
  t.equal(reset.status, 200);
  t.equal(sim.device('walker').scan!.st.scanning, false, 'controller state cleared');
  host.send({ op: 'ping' });
  await host.next((e) => e.ev === 'pong', 30_000, 'pong');
  const quiet = host.mark();
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(host.events.slice(quiet).filter((e) => e.ev === 'adv').length, 0, 'no reports after the controller reset (noble is not told)');
  host.send({ op: 'scan' });
  await host.next((e) => e.ev === 'scanStart', 30_000, 'scanStart');
  host.send({ op: 'ping' });
  await host.next((e) => e.ev === 'pong', 30_000, 'pong');
  t.equal(sim.device('walker').scan!.st.scanning, false, 'noble thinks it is scanning: a plain startScanning sends nothing');
  host.send({ op: 'rescan' });
  await host.waitFor((e) => ownerOf(e) === 'crowd-001', 60_000, 'adverts again after the host stops and restarts scanning', quiet);
  t.ok(
    sim.events.some((e) => e.kind === 'hci-reset' && e.device === 'walker'),
    'fault logged as an event',
  );
  host.send({ op: 'exit' });
});
