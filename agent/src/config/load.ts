/**
 * Agent configuration: YAML file + `BEEPKIT_AGENT_*` environment overrides.
 * Env names: the field path in UPPER_SNAKE with `__` between levels, e.g.
 * BEEPKIT_AGENT_DATA_DIR → dataDir, BEEPKIT_AGENT_HTTP__PORT → http.port,
 * BEEPKIT_AGENT_KEYSTORE__PASSPHRASE → keystore.passphrase. Values are YAML
 * scalars (numbers, booleans, strings; passphrases and passwords stay strings).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { readYamlFile } from '@beepkit/device-core/infra/yaml';
import { layerConfig, type ConfigRules } from '@beepkit/device-core/infra/config';
import { loadModelTable } from '@beepkit/device-core/rssi';
import { DEFAULT_CONFIG, OPAQUE, OPTIONAL, fail, validate, type AgentConfig } from './schema.ts';

/** How the agent's document and environment merge over its defaults. */
export const AGENT_CONFIG_RULES: ConfigRules = {
  optional: OPTIONAL,
  opaque: OPAQUE,
  envPrefix: 'BEEPKIT_AGENT_',
  verbatim: new Set(['passphrase', 'password', 'deviceId']),
};

/** A validated config from a parsed document (or nothing) and the environment; relative paths resolve against baseDir. */
export function resolveConfig(doc: unknown = {}, env: NodeJS.ProcessEnv = {}, baseDir = process.cwd()): AgentConfig {
  const merged = layerConfig(DEFAULT_CONFIG, doc, env, AGENT_CONFIG_RULES) as unknown as AgentConfig;
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
