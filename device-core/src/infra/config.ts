/**
 * The part every config loader shares (agent, gateway): defaults, then the YAML document, then
 * environment overrides, deep-merged field by field. Defaults are cloned, never changed; a field the
 * defaults do not have is refused unless listed as optional; a section left empty in YAML (only
 * comments: null) keeps its defaults; an opaque field is taken whole. Errors: E_CONFIG naming the field.
 */
import { parseYaml } from './yaml.ts';
import { BeepkitError } from '@beepkit/protocol';

export type ConfigObj = Record<string, unknown>;

export const isObj = (v: unknown): v is ConfigObj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws the E_CONFIG error of one field. */
export const configFail = (field: string, msg: string): never => {
  throw new BeepkitError('E_CONFIG', `config ${field}: ${msg}`);
};

export interface ConfigRules {
  /** Dotted paths allowed although the defaults do not have them. */
  optional: ReadonlySet<string>;
  /** Dotted paths whose values are free-form: taken whole, not merged key by key. */
  opaque?: ReadonlySet<string>;
  /** Environment variables `<prefix>A__B_C` override field `a.bC` (values are YAML scalars). */
  envPrefix: string;
  /** Keys whose environment values stay strings (passwords, ids). */
  verbatim?: ReadonlySet<string>;
  /** Keys whose environment values may be comma-separated lists (or YAML lists). */
  lists?: ReadonlySet<string>;
}

/** Deep-merges `over` into `base` (neither is changed), refusing fields the rules do not know. */
export function mergeConfig(base: ConfigObj, over: unknown, rules: ConfigRules, path = ''): ConfigObj {
  if (!isObj(over)) configFail(path || '(root)', 'must be a mapping');
  const out: ConfigObj = { ...base };
  for (const [k, v] of Object.entries(over as ConfigObj)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in base) && !rules.optional.has(p)) configFail(p, 'unknown field');
    out[k] = isObj(base[k]) && !rules.opaque?.has(p) ? mergeConfig(base[k] as ConfigObj, v ?? {}, rules, p) : v;
  }
  return out;
}

/** The overrides the environment carries, as a partial config document. */
export function envOverrides(env: NodeJS.ProcessEnv, rules: ConfigRules): ConfigObj {
  const out: ConfigObj = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(rules.envPrefix) || raw === undefined) continue;
    const path = name
      .slice(rules.envPrefix.length)
      .split('__')
      .map((s) => s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
    let o = out;
    for (const k of path.slice(0, -1)) o = (o[k] = isObj(o[k]) ? o[k] : {}) as ConfigObj;
    const key = path[path.length - 1];
    let v: unknown = raw;
    if (!rules.verbatim?.has(key)) {
      try {
        v = parseYaml(raw);
      } catch {
        v = raw;
      }
    }
    o[key] = rules.lists?.has(key) && typeof v === 'string' ? v.split(',').filter(Boolean) : v;
  }
  return out;
}

/** Defaults (cloned), then `doc`, then the environment's overrides: the document to validate. */
export function layerConfig(defaults: object, doc: unknown, env: NodeJS.ProcessEnv, rules: ConfigRules): ConfigObj {
  return mergeConfig(mergeConfig(structuredClone(defaults) as ConfigObj, doc ?? {}, rules), envOverrides(env, rules), rules);
}
