/**
 * What the sim's control API (control.ts) and rig file (rig.ts) read of a
 * running sim (Sim in sim.ts has this shape), and the records they share, so
 * that neither imports the Sim class.
 */
import type { Enu, LatLon } from '../air/geo.ts';
import type { DeviceSpec, FaultKind, Scenario } from '../scenario/schema.ts';
import type { ScenarioClock } from './clock.ts';

export interface SimEvent {
  /** Scenario seconds. */
  t: number;
  time: string;
  device: string;
  kind: FaultKind | 'move' | 'pause' | 'resume' | 'end' | 'error';
  source: 'scenario' | 'api' | 'sim';
  detail: string;
  duration?: number;
  params?: Record<string, number>;
}

/** One line of `beepkit sim` output per hosted device. */
export interface DeviceLine {
  id: string;
  role: string;
  label: string;
  gnss: string | null;
  hciScan: string;
  hciAdvertise: string;
  position: { lat: number; lon: number };
}

/** A running sim, as its control API and rig file see it. */
export interface SimView {
  readonly scenario: Scenario;
  readonly clock: ScenarioClock;
  readonly events: SimEvent[];
  /** The control API's port, once it listens. */
  readonly controlPort: number | undefined;
  pause(): void;
  resume(): void;
  deviceLines(): DeviceLine[];
  deviceStates(): Record<string, unknown>[];
  /** The EN conformance mode's verdict over every hosted controller (GET /conformance). */
  conformance(): {
    checked: number;
    violations: number;
    byDevice: Record<string, Record<string, number>>;
    recent: { device: string; role: string; rule: string; message: string }[];
  };
  device(id: string): { spec: DeviceSpec; scan?: { address: string }; adv?: { address: string }; gnss?: { intervalMs: number } };
  move(id: string, to: Enu | LatLon): Enu;
  fault(f: { device: string; kind: FaultKind; duration?: number; params?: Record<string, number> }, source?: SimEvent['source']): SimEvent;
}
