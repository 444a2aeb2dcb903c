/** The scenario model: what a YAML scenario file describes once validated and expanded. */
import type { Enu, LatLon } from './geo.ts';
import type { Waypoint } from './trajectory.ts';

export type Role = 'agent' | 'beacon' | 'wearable' | 'crowd';
export type Surface = 'aerosol' | 'copper' | 'cardboard' | 'other' | 'stainless-steel' | 'plastic';
export const SURFACES: readonly Surface[] = ['aerosol', 'copper', 'cardboard', 'other', 'stainless-steel', 'plastic'];

export type FaultKind =
  | 'gnss-outage' // receiver keeps talking, no fix
  | 'gnss-silence' // receiver stops talking
  | 'gnss-bad-checksum'
  | 'gnss-truncated'
  | 'gnss-garbage'
  | 'gnss-time-jump'
  | 'gnss-position-jump' // spoofing: reports a position far from the truth
  | 'gnss-unplug' // port closes and reappears after `duration`
  | 'hci-reset' // the BLE controller resets under the host
  | 'ble-off'; // the device's radio goes silent
export const FAULT_KINDS: readonly FaultKind[] = [
  'gnss-outage',
  'gnss-silence',
  'gnss-bad-checksum',
  'gnss-truncated',
  'gnss-garbage',
  'gnss-time-jump',
  'gnss-position-jump',
  'gnss-unplug',
  'hci-reset',
  'ble-off',
];

export interface AirParams {
  pathLossExponent: number;
  referenceLossDb: number; // path loss at 1 m
  shadowingSigmaDb: number;
  sensitivityDbm: number;
}

export interface BeaconSpec {
  id: string;
  position: Enu;
  txPower: number; // dBm at the antenna
  intervalMs: number;
}

export interface VenueSpec {
  id: string;
  name: string;
  /** state/county/city; the venue itself is the last level */
  region: string;
  center: Enu;
  radius: number;
  polygon?: Enu[];
  surface: Surface;
  slotSeconds: number;
  beacons: BeaconSpec[];
}

export interface GnssSpec {
  enabled: boolean;
  rateHz: number;
  /** seconds of cold start before the first fix */
  fixAfter: number;
  /** 1-sigma horizontal receiver noise in metres */
  noise: number;
}

export interface DeviceSpec {
  id: string;
  role: Exclude<Role, 'crowd'>;
  label: string;
  txPower: number;
  gnss: GnssSpec;
  path: Waypoint[];
  /** for wearables: the agent that cares for it */
  carer?: string;
  /** true for crowd members: host-less advertisers, no agent stack */
  hostless: boolean;
  /** Recorded RSSI: the air reports this device to `heardBy` with a trace's values at its times (issue 15). */
  rssiTrace?: { file: string; heardBy: string; startAt: number; rx?: string; tx?: string };
}

export interface FaultSpec {
  at: number;
  device: string;
  kind: FaultKind;
  duration: number;
  params: Record<string, number>;
}

export interface DiagnosisSpec {
  at: number;
  device: string;
}

export interface Scenario {
  name: string;
  description: string;
  seed: number;
  origin: LatLon;
  duration: number;
  speed: number;
  air: AirParams;
  venues: VenueSpec[];
  devices: DeviceSpec[];
  faults: FaultSpec[];
  diagnoses: DiagnosisSpec[];
  /** free-form expectations for demo and HIL checks, e.g. { alerts: { bob: 'high' } } */
  expect: Record<string, unknown>;
}

export const DEFAULT_AIR: AirParams = { pathLossExponent: 2.0, referenceLossDb: 41, shadowingSigmaDb: 2, sensitivityDbm: -95 };
