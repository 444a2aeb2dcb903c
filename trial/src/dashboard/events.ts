/**
 * The dashboard's input: a typed event feed that the sim, the gateway, the agents or
 * the demo publish to. Pure: types and a strict validator, no I/O.
 *
 * Privacy: the dashboard shows device labels and scenario positions (simulation
 * data), never pseudonyms, TEKs, RPIs or BLE addresses. `validateEvent` therefore
 * rejects any field that is not in the schema (at every depth), and any string that
 * looks like a BLE address or a long hex identifier.
 */
import { BeepkitError, type ErrorCode } from '@beepkit/protocol';

export type Role = 'agent' | 'beacon' | 'wearable' | 'crowd';
export type VenueState = 'empty' | 'infected' | 'clean';
export type TrustState = 'untrusted' | 'trusted' | 'lost';
export type AlertLevel = 'none' | 'low' | 'medium' | 'high';

export interface Point {
  x: number;
  y: number;
}
export interface VenueView {
  id: string;
  name: string;
  center: Point;
  radius: number;
  polygon?: Point[];
  beacons: { id: string; x: number; y: number }[];
}

export interface EncounterWindow {
  start: number;
  end: number;
  minutes: number[];
}

/** Most bucket edges and windows per `encounter` event. */
export const MAX_EDGES = 8;
export const MAX_WINDOWS = 32;

/** `t` is scenario time in seconds from the scenario start. */
export type DashboardEvent =
  | { type: 'scenario'; name: string; origin: { lat: number; lon: number }; venues: VenueView[] }
  | { type: 'position'; device: string; role: Role; label: string; x: number; y: number; t: number }
  | { type: 'venue-state'; venue: string; state: VenueState }
  | { type: 'trust'; device: string; state: TrustState; reason?: string }
  /**
   * One sample of what `device`'s radio heard from `peer`: a scenario device id or name, or the agent's local id
   * (e.g. "p3"), never an RPI or address. `rssi` filtered, `raw` as reported, dBm; `attenuation` dB; `distance`
   * the simulated air's true distance in metres (virtual runs only).
   */
  | { type: 'rssi'; device: string; peer: string; rssi: number; raw?: number; attenuation: number; distance?: number; t: number }
  /**
   * The exposure windows the agent logged for the pair (its encounter log): bounds in scenario seconds and minutes
   * credited per attenuation bucket; `edges` the bucket edges in dB, ascending (bucket i: edges[i-1] ≤ att < edges[i]).
   */
  | { type: 'encounter'; device: string; peer: string; edges: number[]; windows: EncounterWindow[] }
  | { type: 'throughput'; tracecodesPerSec: number; ledgerHeight: number; t: number }
  | { type: 'certificate'; device: string; day: number }
  | { type: 'alert'; device: string; level: AlertLevel; explanation: string; t: number }
  | { type: 'log'; text: string; t: number };

export type EventType = DashboardEvent['type'];
/** An event as stored and streamed: stamped with the server's sequence number. */
export type Stamped = DashboardEvent & { seq: number };

type Check = (v: unknown, path: string) => void;

function fail(code: ErrorCode, path: string, why: string): never {
  throw new BeepkitError(code, `dashboard event: ${path} ${why}`);
}

const MAC = /([0-9a-f]{2}[:-]){5}[0-9a-f]{2}/i;
const LONG_HEX = /[0-9a-f]{24,}/i;
const TOKEN = /[A-Za-z0-9+/_=-]{22,}/g;
/** A long token mixing upper case, lower case and digits: an encoded key or identifier. */
function looksEncoded(v: string): boolean {
  for (const m of v.matchAll(TOKEN)) if (/[A-Z]/.test(m[0]) && /[a-z]/.test(m[0]) && /\d/.test(m[0])) return true;
  return false;
}

function str(max: number, pattern?: RegExp): Check {
  return (v, path) => {
    if (typeof v !== 'string') fail('E_FORMAT', path, 'must be a string');
    if (v.length === 0 || v.length > max) fail('E_RANGE', path, `must be 1..${max} characters`);
    if (pattern && !pattern.test(v)) fail('E_FORMAT', path, `must match ${pattern}`);
    if (MAC.test(v) || LONG_HEX.test(v) || looksEncoded(v)) fail('E_PRIVACY', path, 'looks like an address, key or identifier');
  };
}
/** Identifiers and labels: short, letters, digits and a little punctuation. */
const label = (max: number): Check => str(max, /^[\p{L}\p{N} ._'()-]+$/u);
function num(min = -Infinity, max = Infinity): Check {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('E_FORMAT', path, 'must be a finite number');
    if (v < min || v > max) fail('E_RANGE', path, `must be in [${min}, ${max}]`);
  };
}
function oneOf(values: readonly string[]): Check {
  return (v, path) => {
    if (typeof v !== 'string' || !values.includes(v)) fail('E_RANGE', path, `must be one of ${values.join('|')}`);
  };
}
interface Field {
  check: Check;
  optional?: boolean;
}
type Shape = Record<string, Check | Field>;

function obj(shape: Shape): Check {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('E_FORMAT', path, 'must be an object');
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!Object.hasOwn(shape, k)) fail('E_SCHEMA', `${path}.${k}`, 'is not in the schema');
    }
    for (const [k, f] of Object.entries(shape)) {
      const field: Field = typeof f === 'function' ? { check: f } : f;
      if (rec[k] === undefined) {
        if (!field.optional) fail('E_SCHEMA', `${path}.${k}`, 'is missing');
        continue;
      }
      field.check(rec[k], `${path}.${k}`);
    }
  };
}
function arr(item: Check, max: number): Check {
  return (v, path) => {
    if (!Array.isArray(v)) fail('E_FORMAT', path, 'must be an array');
    if (v.length > max) fail('E_RANGE', path, `must hold at most ${max} items`);
    v.forEach((x, i) => item(x, `${path}[${i}]`));
  };
}
const opt = (check: Check): Field => ({ check, optional: true });
/** A shape check followed by a check across its fields. */
const refine =
  (check: Check, across: Check): Check =>
  (v, path) => {
    check(v, path);
    across(v, path);
  };

const ID = label(40);
const COORD = num(-1e6, 1e6);
const T = num(0, 1e9);
const POINT = obj({ x: COORD, y: COORD });
const TYPE = { check: () => undefined };

const SHAPES: Record<EventType, Check> = {
  scenario: obj({
    type: TYPE,
    name: label(80),
    origin: obj({ lat: num(-90, 90), lon: num(-180, 180) }),
    venues: arr(
      obj({
        id: ID,
        name: label(80),
        center: POINT,
        radius: num(0, 1e5),
        polygon: opt(arr(POINT, 256)),
        beacons: arr(obj({ id: ID, x: COORD, y: COORD }), 64),
      }),
      256,
    ),
  }),
  position: obj({ type: TYPE, device: ID, role: oneOf(['agent', 'beacon', 'wearable', 'crowd']), label: label(40), x: COORD, y: COORD, t: T }),
  'venue-state': obj({ type: TYPE, venue: ID, state: oneOf(['empty', 'infected', 'clean']) }),
  trust: obj({ type: TYPE, device: ID, state: oneOf(['untrusted', 'trusted', 'lost']), reason: opt(str(200)) }),
  rssi: obj({
    type: TYPE,
    device: ID,
    peer: label(16),
    rssi: num(-127, 20),
    raw: opt(num(-127, 20)),
    attenuation: num(-50, 200),
    distance: opt(num(0, 1e5)),
    t: T,
  }),
  encounter: refine(
    obj({
      type: TYPE,
      device: ID,
      peer: label(16),
      edges: arr(num(0, 200), MAX_EDGES),
      windows: arr(obj({ start: T, end: T, minutes: arr(num(0, 1440), MAX_EDGES + 1) }), MAX_WINDOWS),
    }),
    (v, path) => {
      const e = v as { edges: number[]; windows: EncounterWindow[] };
      if (e.edges.some((x, i) => i > 0 && x <= e.edges[i - 1])) fail('E_RANGE', `${path}.edges`, 'must ascend');
      e.windows.forEach((w, i) => {
        if (w.end < w.start) fail('E_RANGE', `${path}.windows[${i}].end`, 'must not be before start');
        if (w.minutes.length !== e.edges.length + 1)
          fail('E_RANGE', `${path}.windows[${i}].minutes`, `must hold one figure per bucket (${e.edges.length + 1})`);
      });
    },
  ),
  throughput: obj({ type: TYPE, tracecodesPerSec: num(0, 1e9), ledgerHeight: num(0, Number.MAX_SAFE_INTEGER), t: T }),
  certificate: obj({ type: TYPE, device: ID, day: num(0, 1e7) }),
  alert: obj({ type: TYPE, device: ID, level: oneOf(['none', 'low', 'medium', 'high']), explanation: str(500), t: T }),
  log: obj({ type: TYPE, text: str(1000), t: T }),
};

export const EVENT_TYPES = Object.keys(SHAPES) as EventType[];

/**
 * Checks `v` against the schema of its `type` and returns it typed. Throws
 * BeepkitError E_TYPE (unknown type), E_SCHEMA (unknown or missing field), E_FORMAT,
 * E_RANGE, or E_PRIVACY (a value that looks like an address or identifier).
 */
export function validateEvent(v: unknown): DashboardEvent {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('E_FORMAT', 'event', 'must be an object');
  const type = (v as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(SHAPES, type)) fail('E_TYPE', 'event.type', `is not one of ${EVENT_TYPES.join('|')}`);
  SHAPES[type as EventType](v, type);
  return v as DashboardEvent;
}

/** The structural subset of a firmware-stubs `Scenario` that the map needs. */
export interface ScenarioLike {
  name: string;
  origin: { lat: number; lon: number };
  venues: readonly {
    id: string;
    name: string;
    center: Point;
    radius: number;
    polygon?: readonly Point[];
    beacons: readonly { id: string; position: Point }[];
  }[];
}

/** Builds the `scenario` event from a loaded scenario, keeping only the schema's fields. */
export function scenarioEvent(s: ScenarioLike): DashboardEvent {
  return {
    type: 'scenario',
    name: s.name,
    origin: { lat: s.origin.lat, lon: s.origin.lon },
    venues: s.venues.map((v) => ({
      id: v.id,
      name: v.name,
      center: { x: v.center.x, y: v.center.y },
      radius: v.radius,
      ...(v.polygon ? { polygon: v.polygon.map((p) => ({ x: p.x, y: p.y })) } : {}),
      beacons: v.beacons.map((b) => ({ id: b.id, x: b.position.x, y: b.position.y })),
    })),
  };
}
