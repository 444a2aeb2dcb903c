/**
 * The rig file: which hardware the HIL suites may use. Either what `beepkit sim`
 * writes (`rig: virtual`, the virtual radios of a running scenario) or a bench
 * of real devices (`rig: real`): per device a GNSS serial path and two HCI-UART
 * radios, per venue its id, key and beacon positions. Pure: parse and validate.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface LatLon {
  lat: number;
  lon: number;
}
export interface RigRadio {
  path: string;
  address?: string;
}
export interface RigDevice {
  id: string;
  role: string;
  label: string;
  gnss: { path: string; rateHz?: number } | null;
  radio: { scan: RigRadio; advertise: RigRadio };
  position?: LatLon;
  carer?: string;
}
export interface RigBeacon {
  id: string;
  position: LatLon;
  txPower?: number;
  address?: string;
}
export interface RigVenue {
  id: string;
  name: string;
  region?: string;
  /** 6-byte venue id, hex. */
  venueId: string;
  /** 32-byte venue key, hex (from `venueKey`, or read from `venueKeyFile` by the loader). */
  venueKey: string;
  slotSeconds: number;
  center: LatLon;
  radius: number;
  surface?: string;
  beacons: RigBeacon[];
}
export interface Rig {
  kind: 'virtual' | 'real';
  name: string;
  /** Scenario clock of a virtual rig (absent: wall clock). */
  clock?: { startTime: number; speed: number; startedAtWallMs: number };
  /** Simulator control API (virtual rigs only). */
  control?: string;
  /** External broker URL (absent: the suites start the gateway's embedded broker). */
  broker?: string;
  /** Device positions stay where the rig file says (a bench), so RSSI ordering can be checked. */
  fixedPositions: boolean;
  devices: RigDevice[];
  venues: RigVenue[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (field: string, problem: string): never => {
  throw new BeepkitError('E_CONFIG', `rig ${field}: ${problem}`);
};

function str(o: Obj, k: string, at: string, optional = false): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return optional ? undefined : fail(`${at}${k}`, 'required');
  if (typeof v !== 'string' || v.length === 0) return fail(`${at}${k}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}
function num(o: Obj, k: string, at: string, min: number, max: number, optional = false): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return optional ? undefined : fail(`${at}${k}`, 'required');
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    return fail(`${at}${k}`, `must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}
function hex(o: Obj, k: string, at: string, bytes: number, optional = false): string | undefined {
  const v = str(o, k, at, optional);
  if (v !== undefined && !new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(v)) fail(`${at}${k}`, `must be ${bytes} bytes of hex`);
  return v?.toLowerCase();
}
function latLon(v: unknown, at: string): LatLon {
  if (!isObj(v)) return fail(at, 'must be {lat, lon}');
  return { lat: num(v, 'lat', `${at}.`, -90, 90)!, lon: num(v, 'lon', `${at}.`, -180, 180)! };
}
function list(o: Obj, k: string, at: string): unknown[] {
  const v = o[k] ?? [];
  if (!Array.isArray(v)) return fail(`${at}${k}`, 'must be a list');
  return v;
}
const ADDRESS = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
function radio(v: unknown, at: string): RigRadio {
  if (!isObj(v)) return fail(at, 'must be {path, address?}');
  const address = str(v, 'address', `${at}.`, true);
  if (address !== undefined && !ADDRESS.test(address)) fail(`${at}.address`, 'must be a BD_ADDR aa:bb:cc:dd:ee:ff');
  return { path: str(v, 'path', `${at}.`)!, ...(address ? { address: address.toLowerCase() } : {}) };
}

function device(v: unknown, i: number): RigDevice {
  const at = `devices[${i}]`;
  if (!isObj(v)) return fail(at, 'must be a mapping');
  const id = str(v, 'id', `${at}.`)!;
  const r = v.radio;
  if (!isObj(r)) return fail(`${at}.radio`, 'must be {scan, advertise}');
  let gnss: RigDevice['gnss'] = null;
  if (v.gnss !== null && v.gnss !== undefined) {
    if (!isObj(v.gnss)) return fail(`${at}.gnss`, 'must be {path, rateHz?} or null');
    // spoofable was declared but only changed a skip message: removed (issue 22); driving a real spoofer is manual
    if (v.gnss.spoofable !== undefined) fail(`${at}.gnss.spoofable`, 'is no longer supported: on-air spoofing needs the control API (virtual rig)');
    gnss = { path: str(v.gnss, 'path', `${at}.gnss.`)!, rateHz: num(v.gnss, 'rateHz', `${at}.gnss.`, 0.01, 50, true) };
  }
  return {
    id,
    role: str(v, 'role', `${at}.`, true) ?? 'agent',
    label: str(v, 'label', `${at}.`, true) ?? id,
    gnss,
    radio: { scan: radio(r.scan, `${at}.radio.scan`), advertise: radio(r.advertise, `${at}.radio.advertise`) },
    ...(v.position !== undefined ? { position: latLon(v.position, `${at}.position`) } : {}),
    ...(v.carer !== undefined ? { carer: str(v, 'carer', `${at}.`)! } : {}),
  };
}

function venue(v: unknown, i: number, readKey: (file: string, field: string) => string): RigVenue {
  const at = `venues[${i}]`;
  if (!isObj(v)) return fail(at, 'must be a mapping');
  let venueKey = hex(v, 'venueKey', `${at}.`, 32, true);
  if (venueKey === undefined) {
    const file = str(v, 'venueKeyFile', `${at}.`, true);
    if (file === undefined) return fail(`${at}.venueKey`, 'required (or venueKeyFile)');
    venueKey = readKey(file, `${at}.venueKeyFile`).trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(venueKey)) fail(`${at}.venueKeyFile`, 'must hold 32 bytes of hex');
  }
  const id = str(v, 'id', `${at}.`)!;
  return {
    id,
    name: str(v, 'name', `${at}.`, true) ?? id,
    region: str(v, 'region', `${at}.`, true),
    venueId: hex(v, 'venueId', `${at}.`, 6)!,
    venueKey,
    slotSeconds: num(v, 'slotSeconds', `${at}.`, 1, 86_400, true) ?? 60,
    center: latLon(v.center, `${at}.center`),
    radius: num(v, 'radius', `${at}.`, 0.1, 100_000)!,
    surface: str(v, 'surface', `${at}.`, true),
    beacons: list(v, 'beacons', `${at}.`).map((b, j) => {
      const bat = `${at}.beacons[${j}]`;
      if (!isObj(b)) return fail(bat, 'must be a mapping');
      const address = str(b, 'address', `${bat}.`, true);
      if (address !== undefined && !ADDRESS.test(address)) fail(`${bat}.address`, 'must be a BD_ADDR aa:bb:cc:dd:ee:ff');
      return {
        id: str(b, 'id', `${bat}.`)!,
        position: latLon(b.position, `${bat}.position`),
        txPower: num(b, 'txPower', `${bat}.`, -40, 20, true),
        ...(address ? { address: address.toLowerCase() } : {}),
      };
    }),
  };
}

/** Validates a parsed rig document; every problem names its field (E_CONFIG). */
export function parseRig(doc: unknown, readKey: (file: string, field: string) => string = (_f, field) => fail(field, 'key files need loadRig')): Rig {
  if (!isObj(doc)) return fail('file', 'must be a YAML mapping');
  const kind = doc.rig;
  if (kind !== 'virtual' && kind !== 'real') return fail('rig', `must be virtual or real, got ${JSON.stringify(kind)}`);
  if (doc.version !== undefined && doc.version !== 1) fail('version', `unsupported version ${JSON.stringify(doc.version)} (this loader reads 1)`);
  let clock: Rig['clock'];
  if (doc.clock !== undefined && doc.clock !== null) {
    if (!isObj(doc.clock)) return fail('clock', 'must be {startTime, speed, startedAtWallMs}');
    clock = {
      startTime: num(doc.clock, 'startTime', 'clock.', 0, 1e15)!,
      speed: num(doc.clock, 'speed', 'clock.', 0.001, 10_000)!,
      startedAtWallMs: num(doc.clock, 'startedAtWallMs', 'clock.', 0, 1e15)!,
    };
  }
  const control = str(doc, 'control', '', true);
  if (control !== undefined && !/^https?:\/\/[^/\s]+/.test(control)) fail('control', 'must be an http:// URL');
  const broker = str(doc, 'broker', '', true);
  if (broker !== undefined && !/^mqtts?:\/\/[^/\s]+/.test(broker)) fail('broker', 'must be mqtt://host:port or mqtts://host:port');
  const fixed = doc.fixedPositions;
  if (fixed !== undefined && typeof fixed !== 'boolean') fail('fixedPositions', 'must be true or false');
  const devices = list(doc, 'devices', '').map(device);
  if (devices.length === 0) fail('devices', 'at least one device is needed');
  const ids = new Set<string>();
  for (const [i, d] of devices.entries()) {
    if (ids.has(d.id)) fail(`devices[${i}].id`, `duplicate id ${d.id}`);
    ids.add(d.id);
  }
  for (const [i, d] of devices.entries()) if (d.carer && !ids.has(d.carer)) fail(`devices[${i}].carer`, `no device ${d.carer}`);
  return {
    kind,
    name: str(doc, 'scenario', '', true) ?? str(doc, 'name', '', true) ?? kind,
    ...(clock ? { clock } : {}),
    ...(control ? { control } : {}),
    ...(broker ? { broker } : {}),
    fixedPositions: fixed === true,
    devices,
    venues: list(doc, 'venues', '').map((v, i) => venue(v, i, readKey)),
  };
}
