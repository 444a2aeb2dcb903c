/**
 * The agent.yaml document of an agent on virtual radios, as the HIL suites and the field trial
 * (trial/) both write it: data dir, serial GNSS on the stub's PTY (or none), scanner and advertiser
 * on the virtual controllers' UARTs, the rig's venues, fast ticks, immediate upload, the embedded
 * gateway's broker and anchors, an HTTP port the kernel picks. Each caller adds its own sections
 * (clock, carer, feed). Times are scenario ms unless noted.
 */
import { join } from 'node:path';
import type { VenueConfig } from '@beepkit/agent/config';
import type { Rig } from './rig/index.ts';
import { VISIT_ENTER_WINDOW_MS, VISIT_EXIT_AFTER_MS } from './wearable.ts';

export interface VirtualAgent {
  /** The agent's directory: data/ and agent.key go below it. */
  dir: string;
  deviceId: string;
  gnssPath: string | null;
  hciScan: string;
  hciAdvertise: string;
  /** The radio watchdog, real ms (0: off). */
  watchdogMs: number;
  venues: AgentVenue[];
  /** TraceCode interval, scenario ms. */
  tracecodeIntervalMs: number;
  brokerUrl: string;
  username: string;
  password: string;
  anchors: { caPublicKey: string; gatewayPublicKey: string };
}

/** An agent's `venues:` entry. */
export type AgentVenue = VenueConfig;

/** The rig's venues as an agent's `venues:` section. */
export function rigVenues(rig: { venues: Pick<Rig['venues'][number], 'venueId' | 'venueKey' | 'center' | 'radius' | 'name'>[] }): AgentVenue[] {
  return rig.venues.map((v) => ({
    id: v.venueId,
    key: v.venueKey,
    lat: v.center.lat,
    lon: v.center.lon,
    radiusM: Math.max(1, Math.ceil(v.radius)),
    name: v.name,
  }));
}

/** The sections every virtual-radio agent shares. */
export function virtualAgentConfig(a: VirtualAgent): Record<string, unknown> {
  return {
    dataDir: join(a.dir, 'data'),
    deviceId: a.deviceId,
    keystore: { keyFile: join(a.dir, 'agent.key') },
    gnss: a.gnssPath ? { type: 'serial', path: a.gnssPath, maxAgeMs: 120_000, silenceMs: 3000 } : { type: 'none' },
    radio: { scanner: { uart: a.hciScan }, advertiser: { uart: a.hciAdvertise }, dutyCycle: 'continuous', watchdogMs: a.watchdogMs, powerOnTimeoutMs: 60_000 },
    venues: a.venues,
    trust: { tickMs: 250, maxAgeMs: 120_000, ttlMs: 600_000 },
    visits: { enterFrames: 3, enterWindowMs: VISIT_ENTER_WINDOW_MS, enterRssi: -70, exitAfterMs: VISIT_EXIT_AFTER_MS },
    publisher: { intervalMs: a.tracecodeIntervalMs, level: 'grid10', tickMs: 250 },
    upload: { policy: 'immediate', tickMs: 500 },
    broker: { url: a.brokerUrl, username: a.username, password: a.password },
    anchors: a.anchors,
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
  };
}
