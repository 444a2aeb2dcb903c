/**
 * The config loaders' shared merge (agent and gateway): defaults cloned and never changed, unknown
 * fields refused with E_CONFIG naming them, empty YAML sections keep their defaults, opaque fields
 * taken whole, environment overrides parsed as YAML scalars except verbatim keys, comma lists.
 */
import t from 'tap';
import { isBeepkitError } from '@beepkit/protocol';
import { envOverrides, layerConfig, mergeConfig, type ConfigRules } from '../src/infra/config.ts';

const defaults = {
  dataDir: './data',
  broker: { url: 'mqtt://a:1', password: 'x', embedded: { port: 1883 } },
  radio: { scanner: { uart: '/dev/a' } },
  list: [] as string[],
};
const rules: ConfigRules = {
  optional: new Set(['clock']),
  opaque: new Set(['radio.scanner']),
  envPrefix: 'BK_',
  verbatim: new Set(['password']),
  lists: new Set(['list']),
};

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return isBeepkitError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
};

t.test('defaults are cloned: changing the result never changes them', async (t) => {
  const before = structuredClone(defaults);
  const c = layerConfig(defaults, { broker: { url: 'mqtt://b:2' } }, {}, rules) as typeof defaults;
  c.broker.embedded.port = 9;
  (c.radio.scanner as { uart: string }).uart = '/dev/z';
  c.list.push('q');
  t.same(defaults, before);
  t.not((layerConfig(defaults, {}, {}, rules) as typeof defaults).broker, defaults.broker);
});

t.test('unknown fields are refused, optional ones taken', async (t) => {
  t.equal(
    code(() => mergeConfig(defaults, { broker: { nope: 1 } }, rules)),
    'E_CONFIG: config broker.nope: unknown field',
  );
  t.equal(
    code(() => mergeConfig(defaults, { broker: 3 }, rules)),
    'E_CONFIG: config broker: must be a mapping',
  );
  t.equal(
    code(() => mergeConfig(defaults, [], rules)),
    'E_CONFIG: config (root): must be a mapping',
  );
  t.same(mergeConfig(defaults, { clock: { url: 'http://c' } }, rules).clock, { url: 'http://c' });
});

t.test('an empty section keeps its defaults; an opaque one is taken whole', async (t) => {
  const c = mergeConfig(defaults, { broker: null, radio: { scanner: { hciIndex: 0 } } }, rules) as typeof defaults;
  t.same(c.broker, defaults.broker);
  t.same(c.radio.scanner, { hciIndex: 0 }, 'not merged with the default uart');
});

t.test('environment overrides', async (t) => {
  const env = { BK_BROKER__EMBEDDED__PORT: '2000', BK_BROKER__PASSWORD: '0123', BK_LIST: 'a,b,,c', BK_DATA_DIR: '/d', OTHER: '1', BK_BROKER__URL: '{bad' };
  t.same(envOverrides(env, rules), { broker: { embedded: { port: 2000 }, password: '0123', url: '{bad' }, list: ['a', 'b', 'c'], dataDir: '/d' });
  const c = layerConfig(defaults, { broker: { url: 'mqtt://doc:1' } }, { BK_BROKER__URL: 'mqtt://env:2' }, rules) as typeof defaults;
  t.equal(c.broker.url, 'mqtt://env:2', 'the environment wins over the document');
  t.equal(
    code(() => layerConfig(defaults, {}, { BK_NOPE: '1' }, rules)),
    'E_CONFIG: config nope: unknown field',
  );
});
