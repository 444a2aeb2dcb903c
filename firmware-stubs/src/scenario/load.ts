/**
 * Loads and validates a YAML scenario. Every problem is reported as one
 * BeepkitError('E_CONFIG') naming the path of the offending field.
 */
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { parse } from 'yaml';
import { BeepkitError } from '@beepkit/protocol';
import type { Enu } from './geo.ts';
import { childSeed, mulberry32 } from './rng.ts';
import type { Waypoint } from './trajectory.ts';
import {
  DEFAULT_AIR,
  FAULT_KINDS,
  SURFACES,
  type BeaconSpec,
  type DeviceSpec,
  type FaultKind,
  type FaultSpec,
  type Scenario,
  type Surface,
  type VenueSpec,
} from './schema.ts';

type Obj = Record<string, unknown>;

class V {
  constructor(readonly path: string) {}
  fail(msg: string): never {
    throw new BeepkitError('E_CONFIG', `scenario ${this.path}: ${msg}`);
  }
  at(key: string | number): V {
    return new V(typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key);
  }
  obj(v: unknown): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail('must be a mapping');
    return v as Obj;
  }
  arr(v: unknown, optional = false): unknown[] {
    if (v === undefined && optional) return [];
    if (!Array.isArray(v)) this.fail('must be a list');
    return v;
  }
  num(v: unknown, opts: { min?: number; max?: number; def?: number; int?: boolean } = {}): number {
    if (v === undefined && opts.def !== undefined) return opts.def;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail('must be a number');
    if (opts.int && !Number.isInteger(v)) this.fail('must be a whole number');
    if (opts.min !== undefined && v < opts.min) this.fail(`must be ≥ ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail(`must be ≤ ${opts.max}`);
    return v;
  }
  str(v: unknown, def?: string): string {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || v.length === 0) this.fail('must be a non-empty string');
    return v;
  }
  id(v: unknown): string {
    const s = this.str(v);
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(s)) this.fail(`"${s}" must be lowercase letters, digits and dashes`);
    return s;
  }
  oneOf<T extends string>(v: unknown, allowed: readonly T[], def?: T): T {
    const s = this.str(v, def);
    if (!allowed.includes(s as T)) this.fail(`"${s}" must be one of ${allowed.join(', ')}`);
    return s as T;
  }
  enu(v: unknown): Enu {
    const o = this.obj(v);
    return { x: this.at('x').num(o.x), y: this.at('y').num(o.y) };
  }
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `scenario ${file}: cannot read (${(cause as Error).message})`, { cause });
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, source = 'scenario'): Scenario {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `${source}: not valid YAML (${(cause as Error).message})`, { cause });
  }
  return validateScenario(doc);
}

export function validateScenario(doc: unknown): Scenario {
  const v = new V('');
  const o = v.obj(doc);
  const seed = v.at('seed').num(o.seed, { def: 1, int: true, min: 0 });
  const originV = v.at('origin');
  const origin = originV.obj(o.origin);
  const duration = v.at('duration').num(o.duration, { min: 1 });
  const airO = o.air === undefined ? {} : v.at('air').obj(o.air);
  const air = {
    pathLossExponent: v.at('air.pathLossExponent').num(airO.pathLossExponent, { def: DEFAULT_AIR.pathLossExponent, min: 1, max: 6 }),
    referenceLossDb: v.at('air.referenceLossDb').num(airO.referenceLossDb, { def: DEFAULT_AIR.referenceLossDb, min: 0 }),
    shadowingSigmaDb: v.at('air.shadowingSigmaDb').num(airO.shadowingSigmaDb, { def: DEFAULT_AIR.shadowingSigmaDb, min: 0 }),
    sensitivityDbm: v.at('air.sensitivityDbm').num(airO.sensitivityDbm, { def: DEFAULT_AIR.sensitivityDbm, max: 0 }),
  };
  const region = v.at('region').str(o.region, 'region/county/city');
  const venues = v
    .at('venues')
    .arr(o.venues, true)
    .map((x, i) => venue(v.at('venues').at(i), x, region));
  const venueById = new Map(venues.map((x) => [x.id, x]));
  const devices: DeviceSpec[] = [];
  v.at('devices')
    .arr(o.devices)
    .forEach((x, i) => devices.push(...device(v.at('devices').at(i), x, venueById, seed, duration)));
  unique(
    v.at('venues'),
    venues.map((x) => x.id),
  );
  unique(v.at('devices'), [...devices.map((x) => x.id), ...venues.flatMap((x) => x.beacons.map((b) => b.id))]);
  const ids = new Set(devices.map((d) => d.id));
  for (const d of devices) {
    if (d.carer !== undefined && !devices.some((c) => c.id === d.carer && c.role === 'agent')) {
      v.at(`devices.${d.id}.carer`).fail(`"${d.carer}" is not an agent of this scenario`);
    }
  }
  const faults = v
    .at('faults')
    .arr(o.faults, true)
    .map((x, i) => fault(v.at('faults').at(i), x, ids, duration));
  const diagnoses = v
    .at('diagnoses')
    .arr(o.diagnoses, true)
    .map((x, i) => {
      const dv = v.at('diagnoses').at(i);
      const d = dv.obj(x);
      const device = dv.at('device').str(d.device);
      if (!ids.has(device)) dv.at('device').fail(`unknown device "${device}"`);
      return { at: dv.at('at').num(d.at, { min: 0, max: duration }), device };
    });
  return {
    name: v.at('name').id(o.name),
    description: v.at('description').str(o.description, ''),
    seed,
    origin: { lat: originV.at('lat').num(origin.lat, { min: -90, max: 90 }), lon: originV.at('lon').num(origin.lon, { min: -180, max: 180 }) },
    duration,
    speed: v.at('speed').num(o.speed, { def: 1, min: 0.01, max: 10000 }),
    air,
    venues,
    devices,
    faults,
    diagnoses,
    expect: o.expect === undefined ? {} : v.at('expect').obj(o.expect),
  };
}

function unique(v: V, ids: string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) v.fail(`duplicate id "${id}"`);
    seen.add(id);
  }
}

function venue(v: V, x: unknown, region: string): VenueSpec {
  const o = v.obj(x);
  const id = v.at('id').id(o.id);
  const center = v.at('center').enu(o.center);
  const beacons: BeaconSpec[] = v
    .at('beacons')
    .arr(o.beacons, true)
    .map((b, i) => {
      const bv = v.at('beacons').at(i);
      const bo = bv.obj(b);
      return {
        id: bv.at('id').id(bo.id),
        position: bv.at('position').enu(bo.position),
        txPower: bv.at('txPower').num(bo.txPower, { def: -4, min: -40, max: 20 }),
        intervalMs: bv.at('intervalMs').num(bo.intervalMs, { def: 100, min: 20, max: 10240 }),
      };
    });
  return {
    id,
    name: v.at('name').str(o.name, id),
    region: `${v.at('region').str(o.region, region)}/${id}`,
    center,
    radius: v.at('radius').num(o.radius, { min: 0.5 }),
    polygon:
      o.polygon === undefined
        ? undefined
        : v
            .at('polygon')
            .arr(o.polygon)
            .map((p, i) => v.at('polygon').at(i).enu(p)),
    surface: v.at('surface').oneOf<Surface>(o.surface, SURFACES, 'other'),
    slotSeconds: v.at('slotSeconds').num(o.slotSeconds, { def: 60, min: 1, max: 86400, int: true }),
    beacons,
  };
}

function waypoints(v: V, x: unknown, venues: Map<string, VenueSpec>): Waypoint[] {
  const list = v.arr(x);
  if (list.length === 0) v.fail('needs at least one waypoint');
  let prev = -Infinity;
  return list.map((w, i) => {
    const wv = v.at(i);
    const o = wv.obj(w);
    const t = wv.at('t').num(o.t, { min: 0 });
    if (t < prev) wv.at('t').fail(`must not go back in time (previous waypoint at ${prev})`);
    prev = t;
    if (o.at !== undefined) {
      const venueId = wv.at('at').str(o.at);
      const venue = venues.get(venueId);
      if (!venue) return wv.at('at').fail(`unknown venue "${venueId}"`);
      return { t, x: venue.center.x + wv.at('dx').num(o.dx, { def: 0 }), y: venue.center.y + wv.at('dy').num(o.dy, { def: 0 }) };
    }
    return { t, x: wv.at('x').num(o.x), y: wv.at('y').num(o.y) };
  });
}

function traceSpec(v: V, x: unknown): NonNullable<DeviceSpec['rssiTrace']> {
  const o = v.obj(x);
  return {
    file: v.at('file').str(o.file),
    heardBy: v.at('heardBy').id(o.heardBy),
    startAt: v.at('startAt').num(o.startAt, { def: 0, min: 0 }),
    ...(o.rx !== undefined ? { rx: v.at('rx').str(o.rx) } : {}),
    ...(o.tx !== undefined ? { tx: v.at('tx').str(o.tx) } : {}),
  };
}

function device(v: V, x: unknown, venues: Map<string, VenueSpec>, seed: number, duration: number): DeviceSpec[] {
  const o = v.obj(x);
  const role = v.at('role').oneOf(o.role, ['agent', 'beacon', 'wearable', 'crowd'] as const);
  const id = v.at('id').id(o.id);
  const gO = o.gnss === undefined ? {} : v.at('gnss').obj(o.gnss);
  const gnss = {
    enabled: gO.enabled === undefined ? role === 'agent' : gO.enabled === true,
    rateHz: v.at('gnss.rateHz').num(gO.rateHz, { def: 1, min: 0.1, max: 10 }),
    fixAfter: v.at('gnss.fixAfter').num(gO.fixAfter, { def: 5, min: 0 }),
    noise: v.at('gnss.noise').num(gO.noise, { def: 2.5, min: 0 }),
  };
  const txPower = v.at('txPower').num(o.txPower, { def: -8, min: -40, max: 20 });
  const rssiTrace = o.rssiTrace === undefined ? undefined : traceSpec(v.at('rssiTrace'), o.rssiTrace);
  if (role !== 'crowd') {
    return [
      {
        id,
        role,
        label: v.at('label').str(o.label, id),
        txPower,
        gnss,
        path: waypoints(v.at('path'), o.path, venues),
        carer: o.carer === undefined ? undefined : v.at('carer').id(o.carer),
        hostless: false,
        ...(rssiTrace ? { rssiTrace } : {}),
      },
    ];
  }
  // A crowd expands into `count` host-less advertisers on seeded random walks.
  const count = v.at('count').num(o.count, { min: 1, max: 5000, int: true });
  const area = v.at('area').obj(o.area);
  const center = v.at('area.center').enu(area.center);
  const radius = v.at('area.radius').num(area.radius, { min: 1 });
  const speed = v.at('speed').num(o.speed, { def: 0.8, min: 0 });
  const rng = mulberry32(childSeed(seed, `crowd/${id}`));
  const pick = (): Enu => {
    const r = radius * Math.sqrt(rng());
    const a = 2 * Math.PI * rng();
    return { x: center.x + r * Math.cos(a), y: center.y + r * Math.sin(a) };
  };
  const out: DeviceSpec[] = [];
  for (let i = 0; i < count; i++) {
    let p = pick();
    let t = 0;
    const path: Waypoint[] = [{ t, ...p }];
    while (t < duration) {
      const q = pick();
      const dist = Math.hypot(q.x - p.x, q.y - p.y);
      t += speed > 0 ? dist / speed : duration;
      t += 30 * rng(); // linger
      path.push({ t: Math.min(t, duration), ...q });
      p = q;
    }
    // a recorded RSSI trace belongs to the crowd's first member
    out.push({
      id: `${id}-${String(i).padStart(3, '0')}`,
      role: 'agent',
      label: `${id} #${i}`,
      txPower,
      gnss: { ...gnss, enabled: false },
      path,
      hostless: true,
      ...(rssiTrace && i === 0 ? { rssiTrace } : {}),
    });
  }
  return out;
}

function fault(v: V, x: unknown, ids: Set<string>, duration: number): FaultSpec {
  const o = v.obj(x);
  const device = v.at('device').str(o.device);
  if (!ids.has(device)) v.at('device').fail(`unknown device "${device}"`);
  const params: Record<string, number> = {};
  if (o.params !== undefined) {
    for (const [k, val] of Object.entries(v.at('params').obj(o.params))) params[k] = v.at(`params.${k}`).num(val);
  }
  return {
    at: v.at('at').num(o.at, { min: 0, max: duration }),
    device,
    kind: v.at('kind').oneOf<FaultKind>(o.kind, FAULT_KINDS),
    duration: v.at('duration').num(o.duration, { def: 0, min: 0 }),
    params,
  };
}

/**
 * The venue key a simulated venue uses, derived from the scenario seed: a test
 * fixture, never a real secret (real venues create keys with `beepkit beacon provision`).
 */
export function simulatedVenueKey(scenario: Pick<Scenario, 'seed' | 'name'>, venueId: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', `beepkit-sim/${scenario.name}/${scenario.seed}`).update(`venue-key/${venueId}`).digest());
}
