/**
 * Agent configuration: YAML file + `BEEPKIT_AGENT_*` environment overrides.
 * Env names: the field path in UPPER_SNAKE with `__` between levels, e.g.
 * BEEPKIT_AGENT_DATA_DIR → dataDir, BEEPKIT_AGENT_HTTP__PORT → http.port,
 * BEEPKIT_AGENT_KEYSTORE__PASSPHRASE → keystore.passphrase. Values are YAML
 * scalars (numbers, booleans, strings; passphrases and passwords stay strings).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { readYamlFile } from '@beepkit/device-core/infra/yaml';
import { loadModelTable } from '@beepkit/device-core/rssi';
import { DEFAULT_CONFIG, OPAQUE, OPTIONAL, fail, isObj, validate, type AgentConfig } from './schema.ts';

type Obj = Record<string, unknown>;
const ENV_PREFIX = 'BEEPKIT_AGENT_';
const VERBATIM = new Set(['passphrase', 'password', 'deviceId']);

/** Deep-merges `over` into `base`, refusing fields the schema does not know. */
function merge(base: Obj, over: unknown, path: string): Obj {
  if (!isObj(over)) fail(path || '(root)', 'must be a mapping');
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over as Obj)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in base) && !OPTIONAL.has(p)) fail(p, 'unknown field');
    // a section left empty in YAML (only comments) is null: keep its defaults
    out[k] = isObj(base[k]) && !OPAQUE.has(p) ? merge(base[k] as Obj, v ?? {}, p) : v;
  }
  return out;
}

/** The overrides the environment carries, as a partial config document. */
export function envOverrides(env: NodeJS.ProcessEnv): Obj {
  const out: Obj = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((s) => s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
    let o = out;
    for (const k of path.slice(0, -1)) o = (o[k] = isObj(o[k]) ? o[k] : {}) as Obj;
    const key = path[path.length - 1];
    let v: unknown = raw;
    if (!VERBATIM.has(key)) {
      try {
        v = parse(raw);
      } catch {
        v = raw;
      }
    }
    o[key] = v;
  }
  return out;
}

/** A validated config from a parsed document (or nothing) and the environment; relative paths resolve against baseDir. */
export function resolveConfig(doc: unknown = {}, env: NodeJS.ProcessEnv = {}, baseDir = process.cwd()): AgentConfig {
  const defaults = structuredClone(DEFAULT_CONFIG) as unknown as Obj;
  const merged = merge(merge(defaults, doc ?? {}, ''), envOverrides(env), '') as unknown as AgentConfig;
  validate(merged);
  const abs = (p: string | undefined): string | undefined => (p === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  merged.dataDir = abs(merged.dataDir)!;
  const ks = merged.keystore;
  ks.path = abs(ks.path) ?? resolve(merged.dataDir, 'keystore.bkks');
  ks.passphraseFile = abs(ks.passphraseFile);
  ks.keyFile = abs(ks.keyFile);
  if (merged.gnss.type === 'replay') merged.gnss.file = abs(merged.gnss.file);
  merged.broker.passwordFile = abs(merged.broker.passwordFile);
  merged.broker.caFile = abs(merged.broker.caFile);
  merged.risk.betaFile = abs(merged.risk.betaFile);
  merged.carer.storePath = abs(merged.carer.storePath) ?? resolve(merged.dataDir, 'carer.bks');
  merged.radio.calibrationTable = abs(merged.radio.calibrationTable);
  // the AEM announces the model's calibrated TX power unless radio.txPower says otherwise
  if (merged.radio.txPower === undefined) {
    try {
      merged.radio.txPower = merged.radio.model ? loadModelTable(merged.radio.calibrationTable).lookup(merged.radio.model).txPower : -8;
    } catch (err) {
      fail('radio.calibrationTable', (err as Error).message);
    }
  }
  return merged;
}

/** Reads a YAML config file (paths in it are relative to the file) and applies env overrides. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  if (path === undefined) return resolveConfig({}, env);
  return resolveConfig(readYamlFile(path), env, dirname(resolve(path)));
}
