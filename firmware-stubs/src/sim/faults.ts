/**
 * Scenario faults → effects on a device's virtual hardware.
 *
 * | kind | effect |
 * | --- | --- |
 * | gnss-outage | receiver keeps talking, no fix, for `duration` |
 * | gnss-silence | receiver writes nothing for `duration` |
 * | gnss-bad-checksum / gnss-truncated | next `params.count` sentences (default: 12 per epoch of `duration`, at least 12) |
 * | gnss-garbage | `params.bytes` (default 256) random bytes before the next epoch |
 * | gnss-time-jump | receiver clock jumps by `params.seconds` (default 3600); back after `duration` if > 0 |
 * | gnss-position-jump | reports `params.dx`/`params.dy` metres east/north (default 5000/0) off the truth, for `duration` (0: for good) |
 * | gnss-unplug | the serial port (symlink and PTY) disappears and comes back after `duration` |
 * | hci-reset | both controllers power-cycle: state cleared (scan, advertising, links, random address), HCI Hardware Error event sent |
 * | ble-off | the device's radios go silent (neither send nor receive) for `duration` (0: for good) |
 */
import { BeepkitError } from '@beepkit/protocol';
import type { GnssEmulator, GnssFault } from '../gnss/emulator.ts';
import type { VirtualController } from '../hci/controller.ts';
import { event } from '../hci/events.ts';
import { addrFromString } from '../hci/le.ts';
import type { FaultSpec } from '../scenario/schema.ts';

/** What a fault can act on. */
export interface FaultTarget {
  id: string;
  gnss?: GnssEmulator;
  controllers: { ctl: VirtualController; address: string }[];
  /** Radio silenced until this scenario second (ble-off). */
  offUntil?: number;
}

export interface FaultEffect {
  effect: string;
  /** Scenario second at which `revert` runs. */
  until?: number;
  revert?: () => string;
}

const SENTENCES_PER_EPOCH = 12;
/** HCI Hardware Error event code. */
const EVT_HARDWARE_ERROR = 0x10;

function epochsOf(durationS: number, intervalMs: number): number {
  return Math.max(1, Math.ceil((durationS * 1000) / intervalMs));
}

/** The GnssEmulator fault for a scenario GNSS fault kind. */
export function gnssFault(f: Pick<FaultSpec, 'kind' | 'duration' | 'params'>, intervalMs: number): GnssFault {
  const epochs = epochsOf(f.duration, intervalMs);
  const p = f.params;
  const count = p.count ?? (f.duration > 0 ? epochs * SENTENCES_PER_EPOCH : SENTENCES_PER_EPOCH);
  switch (f.kind) {
    case 'gnss-outage':
      return { kind: 'outage', epochs };
    case 'gnss-silence':
      return { kind: 'silence', epochs };
    case 'gnss-bad-checksum':
      return { kind: 'bad-checksum', count };
    case 'gnss-truncated':
      return { kind: 'truncate', count };
    case 'gnss-garbage':
      return { kind: 'garbage', bytes: p.bytes ?? 256 };
    case 'gnss-time-jump':
      return { kind: 'time-jump', ms: (p.seconds ?? 3600) * 1000 };
    case 'gnss-position-jump':
      return { kind: 'position-jump', east: p.dx ?? p.east ?? 5000, north: p.dy ?? p.north ?? 0, ...(f.duration > 0 ? { epochs } : {}) };
    case 'gnss-unplug':
      return { kind: 'unplug', epochs };
    default:
      throw new BeepkitError('E_CONFIG', `fault ${f.kind} is not a GNSS fault`);
  }
}

/** Power-cycles a controller: fresh state, the factory address back, a Hardware Error event to the host. */
export function powerCycle(ctl: VirtualController, address: string): void {
  ctl.resetState();
  ctl.bdAddr = addrFromString(address);
  ctl.send(event(EVT_HARDWARE_ERROR, Uint8Array.of(0x01)), 'reply');
}

/** Applies `f` at scenario second `now`. Throws E_CONFIG if the device lacks what the fault needs. */
export function applyFault(t: FaultTarget, f: Pick<FaultSpec, 'kind' | 'duration' | 'params'>, now: number): FaultEffect {
  if (f.kind.startsWith('gnss-')) {
    const g = t.gnss;
    if (!g) throw new BeepkitError('E_CONFIG', `fault ${f.kind}: device ${t.id} has no GNSS receiver`);
    const gf = gnssFault(f, g.intervalMs);
    g.inject(gf);
    const effect = `gnss ${JSON.stringify(gf)}`;
    if (gf.kind === 'time-jump' && f.duration > 0) {
      return { effect, until: now + f.duration, revert: () => (g.inject({ kind: 'time-jump', ms: -gf.ms }), 'gnss clock back') };
    }
    return { effect, ...(f.duration > 0 ? { until: now + f.duration } : {}) };
  }
  if (f.kind === 'hci-reset') {
    if (t.controllers.length === 0) throw new BeepkitError('E_CONFIG', `fault hci-reset: device ${t.id} has no controller`);
    for (const c of t.controllers) powerCycle(c.ctl, c.address);
    return { effect: `${t.controllers.length} controller(s) power-cycled` };
  }
  if (f.kind === 'ble-off') {
    const until = f.duration > 0 ? now + f.duration : Infinity;
    t.offUntil = until;
    return {
      effect: 'radio off',
      ...(Number.isFinite(until) ? { until, revert: () => ((t.offUntil = undefined), 'radio on') } : {}),
    };
  }
  throw new BeepkitError('E_CONFIG', `unknown fault kind ${String(f.kind)}`);
}
