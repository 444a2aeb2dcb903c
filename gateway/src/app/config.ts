/**
 * Gateway configuration: YAML file + `BEEPKIT_GATEWAY_*` environment overrides,
 * validated field by field (E_CONFIG naming the field). Env names: the path in
 * UPPER_SNAKE with `__` between levels, e.g. BEEPKIT_GATEWAY_DATA_DIR → dataDir,
 * BEEPKIT_GATEWAY_BROKER__URL → broker.url, BEEPKIT_GATEWAY_HTTP__PORT → http.port.
 * Values are parsed as YAML scalars (numbers, booleans, strings).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { readYamlFile } from '@beepkit/device-core/infra/yaml';
import { configFail, isObj, layerConfig, type ConfigObj, type ConfigRules } from '@beepkit/device-core/infra/config';
import { checkClockSpec, type ClockSpec } from './clock.ts';
import { DEFAULT_BROKER_LIMITS, type BrokerLimits } from '../broker/limits.ts';

export interface GatewayConfig {
  dataDir: string;
  broker: {
    /** mqtt:// or mqtts:// URL of an external broker; absent → embedded aedes broker. */
    url?: string;
    embedded: {
      host: string;
      port: number;
      passwordFile?: string;
      /** Limits against hostile clients (broker/limits.ts; README "Threats and limits"). */
      limits: BrokerLimits;
      /** Optional MQTT-over-TLS listener for devices (TLS 1.2+); the gateway itself uses the plain loopback port. */
      tls?: { host?: string; port: number; certFile: string; keyFile: string; caFile?: string; requestClientCert?: boolean };
    };
    username: string;
    password?: string;
    passwordFile?: string;
    clientId: string;
    /** Parallel gateway connections (shared subscription `$share/<shareGroup>/…` when > 1; mosquitto only). */
    connections: number;
    /** Uploads each connection has in hand (verifying, appending) at most; the rest wait in the broker (README "Ingest throughput"). */
    maxPending: number;
    shareGroup: string;
    caFile?: string;
    rejectUnauthorized: boolean;
  };
  http: { host: string; port: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  ingest: {
    maxSkewSec: number;
    intervalSeconds: number;
    rateBurst: number;
    ratePerSecond: number;
    /** Ed25519 verify worker threads (absent: cores − 1, min 1; 0: inline). */ verifyWorkers?: number;
  };
  ca: {
    slotSeconds: number;
    slotWindow: number;
    frameMaxAgeMs: number;
    fixMaxAgeMs: number;
    maxAccuracyM: number;
    accuracyFactor: number;
    marginM: number;
    certGraceSec: number;
    requestsPerPseudonymDay: number;
    /** Device topic ids of provisioned beacons allowed to send VenueRegister. */
    trustedBeacons: string[];
  };
  /** publishers: device topic ids allowed to submit notification-chain entries (a solver run with --broker). */
  feed: { maxCatchupBlocks: number; publishers: string[] };
  /**
   * Scenario clock for simulated field trials (absent: the host clock): the sim's control
   * API `url` (…/clock, polled every pollMs), or now = epochMs + (host clock − wallMs) × speed.
   */
  clock?: ClockSpec;
  /** Anchor the ledger's signed tree heads on an EVM chain (README "Consortium chain"); absent: no chain. */
  anchor?: AnchorConfig;
  /** Venue states from the consortium chain (README "Consortium chain"); absent: from this gateway's notification chain only. */
  venues?: { chain?: VenueChainConfig };
  /** One of several gateway processes sharing the devices through `$share` (README "Several gateways"); absent: the only gateway. */
  shard?: ShardConfig;
}

/**
 * A gateway process of a sharded deployment: its own data dir (ledger key, ledger = its log shard, anchor account),
 * the CA and solver keys copied from the main shard. `main` (exactly one per deployment) also takes every non-batch
 * uplink (CA, diagnosis, notification and venue requests, catch-up): it holds the notification chain and feed;
 * `ingest` shards take uplink batches (and device status) only.
 */
export interface ShardConfig {
  /** 0..255, unique per process of the deployment (MQTT client ids are `<clientId>-s<id>[-<k>]`). */
  id: number;
  role: 'main' | 'ingest';
}

export interface AnchorConfig {
  /** JSON-RPC URL of the EVM node (http:// or https://). */
  rpcUrl: string;
  /** The gateway's EVM account key: 32 raw bytes, mode 0600 (`beepkit gateway anchor key`). */
  keyFile: string;
  /** AnchorRegistry address (0x + 40 hex). */
  contract: string;
  /** Anchor the newest tree heads at least this often (default 60 000 ms). */
  intervalMs: number;
  /** Also anchor as soon as this many new tree heads wait (default 0: the interval only). */
  everyTreeHeads: number;
  /** On a graceful stop, wait up to this long to anchor what is left (default 5 000 ms; 0: do not). */
  flushOnStopMs: number;
}

/** The VenueRegistry the gateway's venue states follow (read-only: no key). */
export interface VenueChainConfig {
  /** JSON-RPC URL of the EVM node (default: anchor.rpcUrl). */
  rpcUrl: string;
  /** VenueRegistry address (0x + 40 hex). */
  contract: string;
  /** Poll for new events this often (default 5 000 ms). */
  pollMs: number;
}

export const VENUE_CHAIN_DEFAULTS = { pollMs: 5000 };

export const ANCHOR_DEFAULTS = { intervalMs: 60_000, everyTreeHeads: 0, flushOnStopMs: 5000 };

export const DEFAULT_CONFIG: GatewayConfig = {
  dataDir: './gateway-data',
  broker: {
    embedded: { host: '127.0.0.1', port: 1883, limits: { ...DEFAULT_BROKER_LIMITS } },
    username: 'gateway',
    clientId: 'beepkit-gateway',
    connections: 1,
    maxPending: 64,
    shareGroup: 'gateway',
    rejectUnauthorized: true,
  },
  http: { host: '127.0.0.1', port: 9464 },
  log: { level: 'info' },
  ingest: { maxSkewSec: 300, intervalSeconds: 1800, rateBurst: 4096, ratePerSecond: 1 },
  ca: {
    slotSeconds: 60,
    slotWindow: 1,
    frameMaxAgeMs: 120_000,
    fixMaxAgeMs: 120_000,
    maxAccuracyM: 100,
    accuracyFactor: 2,
    marginM: 25,
    certGraceSec: 21_600,
    requestsPerPseudonymDay: 5,
    trustedBeacons: [],
  },
  feed: { maxCatchupBlocks: 64, publishers: [] },
};

type Obj = ConfigObj;
const fail = configFail;

/** Deep-merges `over` into `base`, refusing keys the defaults do not know (optional keys listed in OPTIONAL_FIELDS). */
export const OPTIONAL_FIELDS: ReadonlySet<string> = new Set([
  'ingest.verifyWorkers',
  'clock',
  'clock.url',
  'clock.pollMs',
  'clock.epochMs',
  'clock.wallMs',
  'clock.speed',
  'broker.url',
  'broker.password',
  'broker.passwordFile',
  'broker.caFile',
  'broker.embedded.passwordFile',
  'broker.embedded.tls',
  'anchor',
  'anchor.rpcUrl',
  'anchor.keyFile',
  'anchor.contract',
  'anchor.intervalMs',
  'anchor.everyTreeHeads',
  'anchor.flushOnStopMs',
  'shard',
  'shard.id',
  'shard.role',
  'venues',
  'venues.chain',
  'venues.chain.rpcUrl',
  'venues.chain.contract',
  'venues.chain.pollMs',
]);
/** How the gateway's document and environment merge over its defaults. */
const GATEWAY_CONFIG_RULES: ConfigRules = {
  optional: OPTIONAL_FIELDS,
  envPrefix: 'BEEPKIT_GATEWAY_',
  verbatim: new Set(['password']),
  lists: new Set(['trustedBeacons', 'publishers']),
};

function num(c: Obj, field: string, min: number, max: number, integer = true, name = field): void {
  const [a, b] = field.split('.');
  const v = b ? (c[a] as Obj)[b] : c[a];
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    fail(name, `must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
}

function str(v: unknown, field: string, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== 'string' || v.length === 0) fail(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
}

function validate(c: GatewayConfig): void {
  const o = c as unknown as Obj;
  str(c.dataDir, 'dataDir');
  const b = c.broker;
  if (b.url !== undefined && (typeof b.url !== 'string' || !/^mqtts?:\/\/[^/\s]+/.test(b.url)))
    fail('broker.url', `must be mqtt://host:port or mqtts://host:port, got ${JSON.stringify(b.url)}`);
  str(b.embedded.host, 'broker.embedded.host');
  num(o, 'broker.connections', 1, 256);
  num(o, 'broker.maxPending', 1, 65_535);
  if (b.url === undefined && b.connections !== 1)
    fail('broker.connections', 'the embedded broker serves one gateway connection (shared subscriptions need mosquitto)');
  const e = b.embedded as unknown as Obj;
  if (typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 0 || e.port > 65535)
    fail('broker.embedded.port', `must be a port number, got ${JSON.stringify(e.port)}`);
  str(b.username, 'broker.username');
  str(b.clientId, 'broker.clientId');
  if (!/^[a-z0-9-]{1,64}$/.test(String(b.shareGroup))) fail('broker.shareGroup', 'must match [a-z0-9-]{1,64}');
  for (const f of ['password', 'passwordFile', 'caFile'] as const) str(b[f], `broker.${f}`, true);
  str(b.embedded.passwordFile, 'broker.embedded.passwordFile', true);
  for (const k of Object.keys(DEFAULT_BROKER_LIMITS))
    num(e.limits as Obj, k, k === 'loginFailuresFree' || k === 'maxRetainedBytes' ? 0 : 1, 2 ** 31, true, `broker.embedded.limits.${k}`);
  if (b.embedded.tls !== undefined) {
    const t = b.embedded.tls as unknown as Obj;
    if (!isObj(t)) fail('broker.embedded.tls', 'must be a mapping');
    for (const k of Object.keys(t))
      if (!['host', 'port', 'certFile', 'keyFile', 'caFile', 'requestClientCert'].includes(k)) fail(`broker.embedded.tls.${k}`, 'unknown field');
    num(t, 'port', 0, 65535, true, 'broker.embedded.tls.port');
    str(t.certFile, 'broker.embedded.tls.certFile');
    str(t.keyFile, 'broker.embedded.tls.keyFile');
    str(t.caFile, 'broker.embedded.tls.caFile', true);
    str(t.host, 'broker.embedded.tls.host', true);
    if (t.requestClientCert !== undefined && typeof t.requestClientCert !== 'boolean') fail('broker.embedded.tls.requestClientCert', 'must be true or false');
    if (t.requestClientCert && t.caFile === undefined) fail('broker.embedded.tls.caFile', 'needed to verify client certificates');
  }
  if (typeof b.rejectUnauthorized !== 'boolean') fail('broker.rejectUnauthorized', 'must be true or false');
  str(c.http.host, 'http.host');
  num(o, 'http.port', 0, 65535);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(c.log.level)) fail('log.level', `unknown level ${JSON.stringify(c.log.level)}`);
  num(o, 'ingest.maxSkewSec', 0, 86_400);
  num(o, 'ingest.intervalSeconds', 60, 86_400);
  if (86_400 % c.ingest.intervalSeconds !== 0) fail('ingest.intervalSeconds', 'must divide a day');
  num(o, 'ingest.rateBurst', 1, 1e9);
  num(o, 'ingest.ratePerSecond', 0, 1e9, false);
  if (c.ingest.verifyWorkers !== undefined) num(o, 'ingest.verifyWorkers', 0, 64);
  num(o, 'ca.slotSeconds', 1, 86_400);
  num(o, 'ca.slotWindow', 0, 100);
  num(o, 'ca.frameMaxAgeMs', 0, 86_400_000);
  num(o, 'ca.fixMaxAgeMs', 0, 86_400_000);
  num(o, 'ca.maxAccuracyM', 0, 1e6, false);
  num(o, 'ca.accuracyFactor', 0, 100, false);
  num(o, 'ca.marginM', 0, 1e6, false);
  num(o, 'ca.certGraceSec', 0, 7 * 86_400);
  num(o, 'ca.requestsPerPseudonymDay', 1, 1e6);
  if (!Array.isArray(c.ca.trustedBeacons) || c.ca.trustedBeacons.some((x) => typeof x !== 'string' || !/^[a-z0-9-]{8,64}$/.test(x)))
    fail('ca.trustedBeacons', 'must be a list of device topic ids');
  num(o, 'feed.maxCatchupBlocks', 1, 10_000);
  if (!Array.isArray(c.feed.publishers) || c.feed.publishers.some((x) => typeof x !== 'string' || !/^[a-z0-9-]{8,64}$/.test(x)))
    fail('feed.publishers', 'must be a list of device topic ids');
  if (c.clock !== undefined) checkClockSpec(c.clock);
  if (c.shard !== undefined) {
    if (!isObj(c.shard)) fail('shard', 'must be a mapping');
    for (const k of Object.keys(c.shard)) if (k !== 'id' && k !== 'role') fail(`shard.${k}`, 'unknown field');
    num(c.shard as unknown as Obj, 'id', 0, 255, true, 'shard.id');
    if (c.shard.role !== 'main' && c.shard.role !== 'ingest') fail('shard.role', `must be main or ingest, got ${JSON.stringify(c.shard.role)}`);
    if (b.url === undefined) fail('shard', 'several gateways share the devices through an external broker (broker.url, mosquitto)');
  }
  if (c.venues !== undefined) {
    if (!isObj(c.venues)) fail('venues', 'must be a mapping');
    for (const k of Object.keys(c.venues)) if (k !== 'chain') fail(`venues.${k}`, 'unknown field');
    if (c.venues.chain !== undefined) {
      if (!isObj(c.venues.chain)) fail('venues.chain', 'must be a mapping');
      const v = (c.venues.chain = {
        ...VENUE_CHAIN_DEFAULTS,
        ...(isObj(c.anchor) ? { rpcUrl: c.anchor.rpcUrl } : {}),
        ...(c.venues.chain as object),
      } as VenueChainConfig);
      for (const k of Object.keys(v)) if (!['rpcUrl', 'contract', 'pollMs'].includes(k)) fail(`venues.chain.${k}`, 'unknown field');
      if (typeof v.rpcUrl !== 'string' || !/^https?:\/\/[^/\s]+/.test(v.rpcUrl))
        fail('venues.chain.rpcUrl', `must be http(s)://host:port (or set anchor.rpcUrl), got ${JSON.stringify(v.rpcUrl)}`);
      if (typeof v.contract !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v.contract))
        fail('venues.chain.contract', `must be an address 0x + 40 hex digits, got ${JSON.stringify(v.contract)}`);
      num(v as unknown as Obj, 'pollMs', 100, 86_400_000, true, 'venues.chain.pollMs');
    }
  }
  if (c.anchor !== undefined) {
    if (!isObj(c.anchor)) fail('anchor', 'must be a mapping');
    const a = (c.anchor = { ...ANCHOR_DEFAULTS, ...c.anchor });
    if (typeof a.rpcUrl !== 'string' || !/^https?:\/\/[^/\s]+/.test(a.rpcUrl))
      fail('anchor.rpcUrl', `must be http(s)://host:port, got ${JSON.stringify(a.rpcUrl)}`);
    str(a.keyFile, 'anchor.keyFile');
    if (typeof a.contract !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(a.contract))
      fail('anchor.contract', `must be an address 0x + 40 hex digits, got ${JSON.stringify(a.contract)}`);
    const ao = a as unknown as Obj;
    num(ao, 'intervalMs', 100, 86_400_000, true, 'anchor.intervalMs');
    num(ao, 'everyTreeHeads', 0, 1e9, true, 'anchor.everyTreeHeads');
    num(ao, 'flushOnStopMs', 0, 600_000, true, 'anchor.flushOnStopMs');
  }
}

/** Builds a validated config from a parsed document (or nothing) and the environment. */
export function resolveConfig(doc: unknown = {}, env: NodeJS.ProcessEnv = {}, baseDir = process.cwd()): GatewayConfig {
  const merged = layerConfig(DEFAULT_CONFIG, doc, env, GATEWAY_CONFIG_RULES) as unknown as GatewayConfig;
  validate(merged);
  const abs = (p: string | undefined): string | undefined => (p === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  merged.dataDir = abs(merged.dataDir)!;
  merged.broker.passwordFile = abs(merged.broker.passwordFile);
  merged.broker.caFile = abs(merged.broker.caFile);
  merged.broker.embedded.passwordFile = abs(merged.broker.embedded.passwordFile);
  if (merged.anchor) merged.anchor.keyFile = abs(merged.anchor.keyFile)!;
  const t = merged.broker.embedded.tls;
  if (t) merged.broker.embedded.tls = { ...t, certFile: abs(t.certFile)!, keyFile: abs(t.keyFile)!, caFile: abs(t.caFile) };
  return merged;
}

/** Reads a YAML config file (paths in it are relative to the file) and applies env overrides. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  if (path === undefined) return resolveConfig({}, env);
  return resolveConfig(readYamlFile(path), env, dirname(resolve(path)));
}
