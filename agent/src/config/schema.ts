/**
 * The agent's configuration: its shape, defaults and field-by-field
 * validation (one E_CONFIG naming the first bad field).
 */
import { checkClockSpec } from '@beepkit/protocol/clock-spec';
import { configFail, isObj, type ConfigObj } from '@beepkit/device-core/infra/config';
import { Level, type LevelName } from '@beepkit/protocol/geodata';

export type HciTargetConfig = { uart: string; baudRate?: number } | { hciIndex: number };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface VenueConfig {
  /** Venue id, 12 hex digits. */
  id: string;
  /** Venue key, 64 hex digits (as registered with the CA). */
  key: string;
  lat: number;
  lon: number;
  radiusM: number;
  name?: string;
}

export interface AgentConfig {
  /** Everything the agent keeps (keystore, outbox, encounters, visits, state). */
  dataDir: string;
  /** MQTT device topic id ([a-z0-9-]{8,64}); default: a random one made once and kept in dataDir. */
  deviceId?: string;
  keystore: {
    /** Default `<dataDir>/keystore.bkks`. */
    path?: string;
    passphrase?: string;
    passphraseFile?: string;
    /** 32 raw bytes or 64 hex digits, mode 0600. */
    keyFile?: string;
    retentionDays: number;
  };
  gnss: {
    type: 'serial' | 'gpsd' | 'replay' | 'none';
    path?: string;
    baudRate?: number;
    host?: string;
    port?: number;
    file?: string;
    /** A fix further than this from the host clock is stale (serial/gpsd). */
    maxAgeMs: number;
    silenceMs: number;
  };
  radio: {
    scanner?: HciTargetConfig;
    advertiser?: HciTargetConfig;
    /** `continuous` or an EN-like window/period. */
    dutyCycle: 'continuous' | { windowMs: number; periodMs: number };
    /**
     * This device's model, looked up in the calibration table (agent/README.md "Proximity"): its RSSI
     * correction, and the TX power its AEM announces (the model's calibrated value, or radio.txPower).
     */
    model?: string;
    /** Another version of the calibration table (CSV); default the shipped device-core/data/calibration table. */
    calibrationTable?: string;
    /**
     * TX power, dBm: with radio.model, announced in the EN metadata (default the model's calibrated value);
     * without, announced only when the advertiser controller cannot report its own (default −8).
     */
    txPower: number;
    /** Added to the controller's advertising TX power before it goes into the AEM, dB (without radio.model). */
    txPowerCorrection: number;
    /** EN advertising interval, ms, within the EN specification's 200–270. */
    advertisingIntervalMs: { min: number; max: number };
    /** This unit's RSSI correction on top of the model's, dB (`beepkit agent calibrate` writes <dataDir>/calibration.json, which wins). */
    rssiCorrection: number;
    /** No advert for this long while scanning → the scan is restarted (0 = off). */
    watchdogMs: number;
    powerOnTimeoutMs: number;
  };
  venues: VenueConfig[];
  trust: { tickMs: number; k: number; maxAgeMs: number; ttlMs: number; maxHdop?: number; minSatellites?: number };
  visits: { enterFrames: number; enterWindowMs: number; enterRssi: number; exitRssi?: number; exitAfterMs: number };
  publisher: { intervalMs: number; level: LevelName; tickMs: number; maxStayIntervals: number };
  upload: { policy: 'immediate' | 'charging-wifi'; maxDelayMs: number; tickMs: number };
  /**
   * The time policy (agent/src/time/keeper.ts): `require` which time may be sealed and signed with
   * (`auto`: GNSS, NTP, or a host that cannot say; `ntp`: GNSS or NTP; `gnss`: GNSS only), and the
   * host/GNSS disagreement beyond which the host clock is corrected to GNSS time.
   */
  time: { require: 'auto' | 'ntp' | 'gnss'; maxOffsetMs: number };
  broker: { url?: string; username?: string; password?: string; passwordFile?: string; caFile?: string };
  /** Public keys the agent trusts (hex, 64 digits): the CA (certificates) and the gateway (receipts, notification blocks). */
  anchors: {
    caPublicKey?: string;
    gatewayPublicKey?: string;
    /** Several gateways: the other shards' ledger keys (their receipts verify; the feed stays gatewayPublicKey's). */ shardPublicKeys?: string[];
  };
  alerts: { webhook?: string; command?: string };
  /** Song et al.'s logistic model: betaFile from `beepkit risk fit --out`; alerts then carry its probability. */
  risk: { betaFile?: string; material?: 'aerosol' | 'copper' | 'cardboard' | 'other' | 'stainlessSteel' | 'plastic' };
  /**
   * The local API (loopback only). `allowedHosts`: names (`kit.local`, `kit.local:8080`) accepted in Host and Origin
   * besides localhost, 127.0.0.1 and [::1] with the bound port (a reverse proxy or tunnel); `requestTimeoutMs`:
   * a request's headers and body must arrive within this (slow-loris).
   */
  http: { host: string; port: number; allowedHosts: string[]; requestTimeoutMs: number };
  log: { level: LogLevel };
  /**
   * Scenario clock for simulated field trials (absent: the host clock): either the sim's
   * control API `url` (…/clock, polled every pollMs), or now = epochMs + (host clock − wallMs) × speed.
   */
  clock?: { url?: string; pollMs?: number; epochMs?: number; speed?: number; wallMs?: number };
  /** Acting as the carer of elder wearables (issue 8; agent/README.md "Carer"). */
  carer: CarerConfig;
  /** `proximity`: the bounded per-encounter feed on the local API (agent/src/app/proximity-feed.ts; off by default). */
  feed: { proximity: boolean };
}

export interface CarerConfig {
  enabled: boolean;
  /** The sealed carer store (pairings, day keys received); default `<dataDir>/carer.bks`. */
  storePath?: string;
  /** Wearable id (32 hex digits) → the name of the person cared for (overrides the wearable's own label). */
  labels: Record<string, string>;
  /** Paired wearables are synced this often (0 = only on request or when seen). */
  syncIntervalMs: number;
  /** Sync a paired wearable as soon as the radio sees it (at most once per minSyncGapMs). */
  autoSync: boolean;
  minSyncGapMs: number;
  /** A controller of the carer's own for GATT; absent: the radio's scanner controller (radio.scanner) is shared. */
  central?: HciTargetConfig;
  /** How long a pairing or sync may look for the wearable. */
  findTimeoutMs: number;
  /** Per protocol message. */
  sessionTimeoutMs: number;
  /**
   * Also publish the wearables' alerts as CarerAlert on beepkit/v1/carer/<deviceId>/alert.
   * Off by default: the protocol's device ACL lets a device only read that topic.
   */
  publishAlerts: boolean;
  /** The carer page (agent/README.md "Carer page"): on the loopback API always; `lan`: also over HTTPS on host:port. */
  page: { lan: boolean; host: string; port: number; timeZone?: string; names: string[] };
}

export const DEFAULT_CONFIG: AgentConfig = {
  dataDir: './agent-data',
  keystore: { retentionDays: 14 },
  gnss: { type: 'none', maxAgeMs: 10_000, silenceMs: 3_000 },
  radio: {
    dutyCycle: { windowMs: 4_000, periodMs: 240_000 },
    txPower: undefined as unknown as number,
    txPowerCorrection: 0,
    advertisingIntervalMs: { min: 200, max: 270 },
    rssiCorrection: 0,
    watchdogMs: 60_000,
    powerOnTimeoutMs: 30_000,
  },
  venues: [],
  trust: { tickMs: 5_000, k: 2, maxAgeMs: 30_000, ttlMs: 600_000 },
  visits: { enterFrames: 3, enterWindowMs: 10_000, enterRssi: -85, exitAfterMs: 60_000 },
  publisher: { intervalMs: 1_800_000, level: 'grid50', tickMs: 30_000, maxStayIntervals: 4 },
  upload: { policy: 'immediate', maxDelayMs: 21_600_000, tickMs: 30_000 },
  time: { require: 'auto', maxOffsetMs: 2_000 },
  broker: {},
  anchors: {},
  alerts: {},
  risk: {},
  http: { host: '127.0.0.1', port: 9470, allowedHosts: [], requestTimeoutMs: 8_000 },
  log: { level: 'info' },
  carer: {
    enabled: false,
    labels: {},
    syncIntervalMs: 300_000,
    autoSync: true,
    minSyncGapMs: 60_000,
    findTimeoutMs: 60_000,
    sessionTimeoutMs: 20_000,
    publishAlerts: false,
    page: { lan: false, host: '0.0.0.0', port: 9471, names: [] },
  },
  feed: { proximity: false },
};

/** Keys that may appear although the defaults lack them. */
export const OPTIONAL = new Set([
  'deviceId',
  'keystore.path',
  'keystore.passphrase',
  'keystore.passphraseFile',
  'keystore.keyFile',
  'gnss.path',
  'gnss.baudRate',
  'gnss.host',
  'gnss.port',
  'gnss.file',
  'radio.scanner',
  'radio.advertiser',
  'radio.model',
  'radio.calibrationTable',
  'radio.txPower',
  'trust.maxHdop',
  'trust.minSatellites',
  'visits.exitRssi',
  'broker.url',
  'broker.username',
  'broker.password',
  'broker.passwordFile',
  'broker.caFile',
  'alerts.webhook',
  'alerts.command',
  'risk.betaFile',
  'risk.material',
  'anchors.caPublicKey',
  'anchors.gatewayPublicKey',
  'anchors.shardPublicKeys',
  'clock',
  'carer.storePath',
  'carer.central',
  'carer.page.timeZone',
]);
/** Fields whose values are free-form (not merged key by key). */
export const OPAQUE = new Set(['radio.scanner', 'radio.advertiser', 'radio.dutyCycle', 'venues', 'clock', 'carer.labels', 'carer.central', 'carer.page.names']);

type Obj = ConfigObj;
export { isObj };
export const fail = configFail;

function get(c: Obj, field: string): unknown {
  return field.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), c);
}

function num(c: Obj, field: string, min: number, max: number, o: { integer?: boolean; optional?: boolean } = {}): void {
  const v = get(c, field);
  if (o.optional && v === undefined) return;
  const integer = o.integer ?? true;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    fail(field, `must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
}

function str(c: Obj, field: string, optional = false): void {
  const v = get(c, field);
  if (optional && v === undefined) return;
  if (typeof v !== 'string' || v.length === 0) fail(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
}

function oneOf(c: Obj, field: string, values: readonly string[]): void {
  const v = get(c, field);
  if (typeof v !== 'string' || !values.includes(v)) fail(field, `must be one of ${values.join(' | ')}, got ${JSON.stringify(v)}`);
}

function hciTarget(c: Obj, field: string): void {
  const v = get(c, field);
  if (v === undefined || v === null) return;
  if (!isObj(v)) return fail(field, 'must be { uart: <port> } or { hciIndex: <n> }');
  const keys = Object.keys(v).sort().join(',');
  if ('uart' in v) {
    if (keys !== 'uart' && keys !== 'baudRate,uart') fail(field, `unknown keys (${keys}): use uart and baudRate`);
    str(c, `${field}.uart`);
    num(c, `${field}.baudRate`, 1200, 4_000_000, { optional: true });
  } else if ('hciIndex' in v) {
    if (keys !== 'hciIndex') fail(field, `unknown keys (${keys}): use hciIndex`);
    num(c, `${field}.hciIndex`, 0, 255);
  } else fail(field, 'must be { uart: <port> } or { hciIndex: <n> }');
}

const LEVELS = Object.keys(Level);

function venues(c: AgentConfig): void {
  if (!Array.isArray(c.venues)) fail('venues', 'must be a list');
  c.venues.forEach((v, i) => {
    const f = `venues[${i}]`;
    if (!isObj(v)) fail(f, 'must be a mapping');
    for (const k of Object.keys(v)) if (!['id', 'key', 'lat', 'lon', 'radiusM', 'name'].includes(k)) fail(`${f}.${k}`, 'unknown field');
    if (typeof v.id !== 'string' || !/^[0-9a-f]{12}$/i.test(v.id)) fail(`${f}.id`, 'must be 12 hex digits');
    if (typeof v.key !== 'string' || !/^[0-9a-f]{64}$/i.test(v.key)) fail(`${f}.key`, 'must be 64 hex digits');
    const o = v as unknown as Obj;
    num(o, 'lat', -90, 90, { integer: false });
    num(o, 'lon', -180, 180, { integer: false });
    if (typeof v.radiusM !== 'number' || !(v.radiusM > 0)) fail(`${f}.radiusM`, 'must be a positive number');
  });
}

/** Validates a merged config; throws one E_CONFIG naming the first bad field. */
export function validate(c: AgentConfig): void {
  const o = c as unknown as Obj;
  str(o, 'dataDir');
  if (c.deviceId !== undefined && (typeof c.deviceId !== 'string' || !/^[a-z0-9-]{8,64}$/.test(c.deviceId))) fail('deviceId', 'must match [a-z0-9-]{8,64}');
  for (const f of ['path', 'passphrase', 'passphraseFile', 'keyFile']) str(o, `keystore.${f}`, true);
  const secrets = ['passphrase', 'passphraseFile', 'keyFile'].filter((k) => (c.keystore as Obj)[k] !== undefined);
  if (secrets.length > 1) fail('keystore', `give one of passphrase, passphraseFile, keyFile (got ${secrets.join(', ')})`);
  num(o, 'keystore.retentionDays', 1, 3650);
  oneOf(o, 'gnss.type', ['serial', 'gpsd', 'replay', 'none']);
  if (c.gnss.type === 'serial') str(o, 'gnss.path');
  if (c.gnss.type === 'replay') str(o, 'gnss.file');
  str(o, 'gnss.host', true);
  num(o, 'gnss.port', 1, 65535, { optional: true });
  num(o, 'gnss.baudRate', 1200, 4_000_000, { optional: true });
  num(o, 'gnss.maxAgeMs', 100, 86_400_000);
  num(o, 'gnss.silenceMs', 100, 600_000);
  hciTarget(o, 'radio.scanner');
  hciTarget(o, 'radio.advertiser');
  const d = c.radio.dutyCycle;
  if (d !== 'continuous') {
    if (!isObj(d)) fail('radio.dutyCycle', 'must be "continuous" or { windowMs, periodMs }');
    num(o, 'radio.dutyCycle.windowMs', 1, 3_600_000);
    num(o, 'radio.dutyCycle.periodMs', 1, 86_400_000);
    if ((d as { windowMs: number }).windowMs > (d as { periodMs: number }).periodMs) fail('radio.dutyCycle', 'windowMs must be <= periodMs');
  }
  num(o, 'radio.txPower', -127, 20, { optional: true });
  str(o, 'radio.model', true);
  str(o, 'radio.calibrationTable', true);
  num(o, 'radio.txPowerCorrection', -40, 40);
  num(o, 'radio.advertisingIntervalMs.min', 200, 270);
  num(o, 'radio.advertisingIntervalMs.max', 200, 270);
  if (c.radio.advertisingIntervalMs.min > c.radio.advertisingIntervalMs.max) fail('radio.advertisingIntervalMs', 'min must be <= max');
  num(o, 'radio.rssiCorrection', -60, 60, { integer: false });
  num(o, 'radio.watchdogMs', 0, 3_600_000);
  num(o, 'radio.powerOnTimeoutMs', 100, 600_000);
  venues(c);
  num(o, 'trust.tickMs', 50, 3_600_000);
  num(o, 'trust.k', 0.1, 100, { integer: false });
  num(o, 'trust.maxAgeMs', 100, 3_600_000);
  num(o, 'trust.ttlMs', 100, 86_400_000);
  num(o, 'trust.maxHdop', 0, 100, { integer: false, optional: true });
  num(o, 'trust.minSatellites', 0, 64, { optional: true });
  num(o, 'visits.enterFrames', 1, 1000);
  num(o, 'visits.enterWindowMs', 1, 3_600_000);
  num(o, 'visits.enterRssi', -127, 20);
  num(o, 'visits.exitAfterMs', 1, 86_400_000);
  num(o, 'visits.exitRssi', -127, 20, { optional: true });
  if (c.visits.exitRssi !== undefined && c.visits.exitRssi > c.visits.enterRssi) fail('visits.exitRssi', 'must be ≤ visits.enterRssi');
  num(o, 'publisher.intervalMs', 60_000, 86_400_000);
  if (86_400_000 % c.publisher.intervalMs !== 0) fail('publisher.intervalMs', 'must divide a day');
  oneOf(o, 'publisher.level', LEVELS);
  num(o, 'publisher.tickMs', 50, 3_600_000);
  num(o, 'publisher.maxStayIntervals', 1, 48);
  oneOf(o, 'upload.policy', ['immediate', 'charging-wifi']);
  num(o, 'upload.maxDelayMs', 1, 7 * 86_400_000);
  num(o, 'upload.tickMs', 50, 3_600_000);
  oneOf(o, 'time.require', ['auto', 'ntp', 'gnss']);
  num(o, 'time.maxOffsetMs', 100, 3_600_000);
  if (c.broker.url !== undefined && (typeof c.broker.url !== 'string' || !/^mqtts?:\/\/[^/\s]+/.test(c.broker.url)))
    fail('broker.url', `must be mqtt://host:port or mqtts://host:port, got ${JSON.stringify(c.broker.url)}`);
  for (const f of ['username', 'password', 'passwordFile', 'caFile']) str(o, `broker.${f}`, true);
  // the broker ACL confines a device to beepkit/v1/dev/<its username>/…: the username is its topic id
  if (c.broker.username !== undefined && !/^[a-z0-9-]{8,64}$/.test(c.broker.username))
    fail('broker.username', 'is the device topic id: must match [a-z0-9-]{8,64}');
  if (c.broker.username !== undefined && c.deviceId !== undefined && c.broker.username !== c.deviceId)
    fail('broker.username', `must equal deviceId (${c.deviceId}): the broker ACL binds the device topics to the username`);
  for (const f of ['caPublicKey', 'gatewayPublicKey'] as const) {
    const v = c.anchors[f];
    if (v !== undefined && (typeof v !== 'string' || !/^[0-9a-f]{64}$/i.test(v))) fail(`anchors.${f}`, 'must be 64 hex digits');
  }
  const sk = c.anchors.shardPublicKeys;
  if (sk !== undefined && (!Array.isArray(sk) || sk.some((v) => typeof v !== 'string' || !/^[0-9a-f]{64}$/i.test(v))))
    fail('anchors.shardPublicKeys', 'must be a list of 64 hex digits each');
  if (c.broker.url !== undefined)
    for (const f of ['caPublicKey', 'gatewayPublicKey'] as const) if (c.anchors[f] === undefined) fail(`anchors.${f}`, 'is needed with broker.url');
  if (c.alerts.webhook !== undefined && (typeof c.alerts.webhook !== 'string' || !/^https?:\/\//.test(c.alerts.webhook)))
    fail('alerts.webhook', 'must be an http(s) URL');
  str(o, 'alerts.command', true);
  str(o, 'risk.betaFile', true);
  if (c.risk.material !== undefined) oneOf(o, 'risk.material', ['aerosol', 'copper', 'cardboard', 'other', 'stainlessSteel', 'plastic']);
  str(o, 'http.host');
  if (!['127.0.0.1', '::1', 'localhost'].includes(c.http.host)) fail('http.host', 'must be a loopback address (127.0.0.1, ::1, localhost)');
  num(o, 'http.port', 0, 65535);
  allowedHosts(c.http.allowedHosts);
  num(o, 'http.requestTimeoutMs', 100, 60_000);
  oneOf(o, 'log.level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
  clock(c);
  carer(c);
  if (typeof c.feed.proximity !== 'boolean') fail('feed.proximity', `must be true or false, got ${JSON.stringify(c.feed.proximity)}`);
}

function carer(c: AgentConfig): void {
  const k = c.carer;
  const o = c as unknown as Obj;
  if (typeof k.enabled !== 'boolean') fail('carer.enabled', `must be true or false, got ${JSON.stringify(k.enabled)}`);
  for (const f of ['autoSync', 'publishAlerts'] as const)
    if (typeof k[f] !== 'boolean') fail(`carer.${f}`, `must be true or false, got ${JSON.stringify(k[f])}`);
  str(o, 'carer.storePath', true);
  if (!isObj(k.labels)) fail('carer.labels', 'must be a mapping of wearable id (32 hex digits) to a name');
  for (const [id, label] of Object.entries(k.labels)) {
    if (!/^[0-9a-f]{32}$/.test(id)) fail(`carer.labels.${id}`, 'the key must be a wearable id (32 lowercase hex digits)');
    if (typeof label !== 'string' || !label.trim() || label.length > 64) fail(`carer.labels.${id}`, 'must be a name of 1..64 characters');
  }
  num(o, 'carer.syncIntervalMs', 0, 86_400_000);
  num(o, 'carer.minSyncGapMs', 0, 86_400_000);
  num(o, 'carer.findTimeoutMs', 1_000, 600_000);
  num(o, 'carer.sessionTimeoutMs', 1_000, 600_000);
  hciTarget(o, 'carer.central');
  if (typeof k.page.lan !== 'boolean') fail('carer.page.lan', `must be true or false, got ${JSON.stringify(k.page.lan)}`);
  str(o, 'carer.page.host');
  num(o, 'carer.page.port', 0, 65535);
  const tz = k.page.timeZone;
  if (
    tz !== undefined &&
    (typeof tz !== 'string' ||
      !(() => {
        try {
          return !!new Intl.DateTimeFormat('en', { timeZone: tz });
        } catch {
          return false;
        }
      })())
  )
    fail('carer.page.timeZone', `must be an IANA time zone (Europe/Berlin), got ${JSON.stringify(tz)}`);
  if (!Array.isArray(k.page.names) || k.page.names.some((n) => typeof n !== 'string' || !/^[a-z0-9.:-]{1,253}$/i.test(n)))
    fail('carer.page.names', 'must be a list of host names or IP addresses');
}

const HOST_NAME = /^(?=.{1,253}(:|$))[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;

function allowedHosts(v: unknown): void {
  if (!Array.isArray(v)) return fail('http.allowedHosts', 'must be a list of host names');
  v.forEach((h, i) => {
    const f = `http.allowedHosts[${i}]`;
    if (typeof h !== 'string' || !HOST_NAME.test(h)) fail(f, `must be a lowercase host name or name:port (no scheme, no wildcard), got ${JSON.stringify(h)}`);
    const port = Number((h as string).split(':')[1] ?? 1);
    if (port < 1 || port > 65535) fail(f, 'port must be 1..65535');
    if (/^(localhost|127\.0\.0\.1)(:|$)/.test(h as string)) fail(f, 'loopback names are always allowed (with the bound port)');
  });
}

function clock(c: AgentConfig): void {
  if (c.clock !== undefined) checkClockSpec(c.clock);
}
