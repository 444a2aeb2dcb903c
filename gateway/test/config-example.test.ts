/**
 * gateway/gateway.example.yaml, the shipped example config: the real loader
 * (loadConfig) accepts it and it states the defaults; with its commented
 * optional fields switched on it still loads; and it names every field the
 * loader knows (every default and every optional field), so a new field cannot
 * be left out of it.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, OPTIONAL_FIELDS, loadConfig, resolveConfig } from '../src/app/config.ts';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'gateway.example.yaml');
const TLS_FIELDS = ['host', 'port', 'certFile', 'keyFile', 'caFile', 'requestClientCert'];

/** Leaf paths of a parsed document (a mapping's keys, recursively; lists and scalars are leaves). */
function leaves(o: unknown, path = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [path];
  return Object.entries(o).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

t.test('the example loads through the real loader and states the defaults', async (t) => {
  const cfg = loadConfig(EXAMPLE, {});
  // The one active optional field: the password file `beepkit gateway device add <id> -c gateway.example.yaml` writes.
  t.same(cfg, resolveConfig({ broker: { embedded: { passwordFile: './passwd' } } }, {}, dirname(EXAMPLE)), 'every other active value is the default');
  t.equal(cfg.broker.embedded.passwordFile, join(dirname(EXAMPLE), 'passwd'), 'the password file is on, relative to the file');
  t.equal(cfg.dataDir, join(dirname(EXAMPLE), 'gateway-data'), 'relative paths are relative to the file');
});

t.test('the example names every field; with its optional fields on it still loads', async (t) => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const full = text.replace(/^(\s*)# ?(\s*[A-Za-z]\w*:.*)$/gm, '$1$2');
  const doc = parse(full) as Record<string, unknown>;
  const dir = t.testdir();
  writeFileSync(join(dir, 'full.yaml'), full);
  const cfg = loadConfig(join(dir, 'full.yaml'), {});
  t.equal(cfg.broker.url, 'mqtts://broker.example:8883');
  t.equal(cfg.broker.embedded.tls?.port, 8883);
  t.equal(cfg.ingest.verifyWorkers, 1);
  const known = new Set([
    ...leaves(DEFAULT_CONFIG),
    ...[...OPTIONAL_FIELDS].filter(
      (f) => f !== 'clock' && f !== 'anchor' && f !== 'shard' && f !== 'venues' && f !== 'venues.chain' && f !== 'broker.embedded.tls',
    ),
    ...TLS_FIELDS.map((f) => `broker.embedded.tls.${f}`),
  ]);
  const named = new Set(leaves(doc));
  t.same(
    [...known].filter((f) => !named.has(f)),
    [],
    'every field the loader knows is in the example',
  );
  t.same(
    [...named].filter((f) => !known.has(f)),
    [],
    'and nothing else',
  );
});
