/** sensing: RSSI ordered by distance, GNSS fixes on every agent device, beacons detected and visits logged. */
import { staticRandomAddress } from '@beepkit/firmware-stubs/air';
import { distanceM } from '@beepkit/gateway/ca';
import { BeepkitError } from '@beepkit/protocol';
import { runBeepkit } from '../hil/agents.ts';
import { BIN, Skip, type HilContext } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';
import type { RigBeacon } from '../rig/index.ts';

/** Noble-style address (big-endian, colons) of a beacon: declared, or the simulator's for a virtual rig. */
function beaconAddress(ctx: HilContext, b: RigBeacon): string | undefined {
  if (b.address) return b.address;
  if (ctx.rig.kind !== 'virtual') return undefined;
  return [...staticRandomAddress(b.id)]
    .reverse()
    .map((x) => x.toString(16).padStart(2, '0'))
    .join(':');
}

/** Median RSSI of one beacon on a device's scan radio, through `beepkit agent calibrate` (the agent's own stack). */
async function medianRssi(configPath: string, address: string): Promise<number> {
  const out = await runBeepkit(
    BIN,
    ['agent', 'calibrate', '--config', configPath, '--beacon', address, '--samples', '20', '--timeout', '60', '--dry-run'],
    120_000,
  );
  const j = JSON.parse(out) as { medianRssi: number };
  return j.medianRssi;
}

async function rssiOrdering(ctx: HilContext): Promise<void> {
  const venue = ctx.rig.venues.find((v) => v.beacons.length >= 2);
  if (!venue) throw new Skip('no venue with two beacons on this rig');
  const dev = ctx.agentDevices.at(-1);
  if (!dev) throw new Skip('no agent device');
  if (ctx.agents.get(dev.id)?.running) throw new Skip(`${dev.id}'s scan radio is in use by its agent`);
  let at = dev.position;
  const b0 = venue.beacons[0]!;
  if (ctx.control) {
    at = { lat: b0.position.lat, lon: b0.position.lon + 1.5 / (111_320 * Math.cos((b0.position.lat * Math.PI) / 180)) };
    await ctx.control.move(dev.id, at);
  } else if (!ctx.rig.fixedPositions || !at) {
    throw new Skip('needs the control API or fixed device positions (fixedPositions: true)');
  }
  const addrs = venue.beacons.map((b) => beaconAddress(ctx, b));
  if (addrs.some((a) => !a)) throw new Skip('beacon addresses unknown (declare beacons[].address)');
  const agent = ctx.agentFor(dev.id);
  const rows: { id: string; d: number; rssi: number }[] = [];
  try {
    for (const [i, b] of venue.beacons.entries())
      rows.push({ id: b.id, d: distanceM(at.lat, at.lon, b.position.lat, b.position.lon), rssi: await medianRssi(agent.configPath, addrs[i]!) });
  } finally {
    // park the probe device far from every venue (the suites count it as unexposed)
    if (ctx.control) await ctx.control.move(dev.id, { lat: venue.center.lat - 0.004, lon: venue.center.lon - 0.004 });
  }
  ctx.print(`    ${dev.id}: ${rows.map((r) => `${r.id} ${r.d.toFixed(1)} m → ${r.rssi} dBm`).join(', ')}`);
  const byDistance = [...rows].sort((a, b) => a.d - b.d);
  for (let i = 1; i < byDistance.length; i++) {
    const near = byDistance[i - 1]!;
    const far = byDistance[i]!;
    if (far.d - near.d > 3 && !(near.rssi > far.rssi))
      throw new BeepkitError(
        'E_ASSERT',
        `RSSI not ordered by distance: ${near.id} at ${near.d.toFixed(1)} m reads ${near.rssi} dBm, ${far.id} at ${far.d.toFixed(1)} m reads ${far.rssi} dBm`,
      );
  }
}

export const sensing: Suite = {
  name: 'sensing',
  ci: true,
  description: 'RSSI ordered by distance, GNSS fixes on every agent device, beacons detected and visits logged',
  async run(ctx, step) {
    await step('RSSI ordering by distance (agent stack on a scan radio)', () => rssiOrdering(ctx));
    const agents = await ctx.agentsUp();
    await step('GNSS fixes arrive on every agent device', async () => {
      const withGnss = [...agents.values()].filter((a) => a.device.gnss);
      if (withGnss.length === 0) throw new Skip('no agent device has a GNSS receiver');
      await Promise.all(withGnss.map((a) => a.waitFor('a usable GNSS fix', (s) => s.gnss.usable && (s.gnss.counters.fixes ?? 1) > 0, 120_000)));
    });
    await step('beacons detected and a venue visit logged', async () => {
      const limit = 60_000 + ctx.real(1_500_000);
      await Promise.any(
        [...agents.values()].map((a) => a.waitFor('venue frames and a visit', (s) => (s.scan.byKind['beepkit-venue'] ?? 0) > 0 && s.visits.total >= 1, limit)),
      ).catch(() => {
        throw new BeepkitError('E_TIMEOUT', `no agent logged a venue visit in ${Math.round(limit / 1000)} s`);
      });
      for (const a of agents.values()) {
        const s = await a.status();
        if (s && Object.keys(s.scan.rejects).some((k) => (s.scan.rejects[k] ?? 0) > 0 && k !== 'E_TRUNCATED'))
          ctx.print(`    note: ${a.device.id} rejected frames ${JSON.stringify(s.scan.rejects)}`);
      }
    });
  },
};
