/**
 * `beepkit agent carer list|pair|unpair|sync`: clients of the running agent's
 * local API (`--url`, default http://127.0.0.1:9470; agent/README.md "Carer").
 * `pair` shows the carer's code and asks for the code the wearable shows;
 * `--code` gives it up front (scripts). `list` and `unpair --offline` also
 * work on the sealed store with no agent running (`--config`, the agent's
 * config: the store is sealed with the agent's storage key).
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { loadConfig } from '../config/index.ts';
import { secretOf, storageKey } from '../app/storage.ts';
import { CarerStore } from './store.ts';
import { CarerClient } from './client.ts';

type Opts = { url: string; config?: string; store?: string; label?: string; address?: string; code?: string; offline?: boolean };
const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
const print = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + '\n');

const ask = (code: string): Promise<string> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(`Carer code ${code}. Type the code the wearable shows: `, (a) => {
      rl.close();
      resolve(a.trim());
    });
  });

/** One call to the running agent's API; a coded error reply becomes a BeepkitError. */
export async function carerApi(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(new URL(path, url), { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}), signal: AbortSignal.timeout(300_000) });
  } catch (cause) {
    throw new BeepkitError('E_IO', `no agent at ${url}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  const doc = text ? JSON.parse(text) : undefined;
  if (res.status === 404 && !doc) throw new BeepkitError('E_CONFIG', 'the agent does not act as a carer (config carer.enabled)');
  if (res.status !== 200) throw new BeepkitError(doc?.code ?? 'E_IO', doc?.message ?? `HTTP ${res.status}`);
  return doc;
}

async function offlineStore(o: Opts): Promise<{ store: CarerStore; client: CarerClient }> {
  const cfg = loadConfig(o.config);
  const store = await new CarerStore({
    path: o.store ?? cfg.carer.storePath!, key: await storageKey(cfg.dataDir, await secretOf(cfg)), retentionDays: cfg.keystore.retentionDays, wearablesDir: join(cfg.dataDir, 'wearables'),
  }).load();
  return { store, client: new CarerClient({ store, sink: async () => {} }) };
}

const run = (fn: (...a: any[]) => Promise<void>) => async (...a: any[]): Promise<void> => {
  try {
    await fn(...a);
  } catch (e) {
    fail(e);
  }
};

export function registerCarer(agent: Command): void {
  const carer = agent.command('carer').description('pair elder wearables through the running agent, list and unpair them');
  const url = (c: Command): Command => c.option('--url <url>', 'the running agent', 'http://127.0.0.1:9470');
  const offline = (c: Command): Command => c.option('--store <file>', 'read the sealed carer store directly (no agent running)')
    .option('--config <file>', "with --store: the agent's config (its secret seals the store; default store path carer.storePath)");
  offline(url(carer.command('list'))).action(run(async (o: Opts) => {
    if (o.store || o.config) {
      const { store } = await offlineStore(o);
      print(store.list().map((w) => ({ wearableId: w.wearableId, label: w.label, pairedMs: w.pairedMs, days: w.days.map((d) => d.day), records: w.received ?? w.seen.length, lastSyncMs: w.lastSyncMs })));
    } else print(await carerApi(o.url, 'GET', '/carer/wearables'));
  }));
  url(carer.command('pair')).option('--label <name>', 'name of the person cared for').option('--address <addr>', 'only this wearable')
    .option('--code <digits>', 'the code the wearable shows (otherwise asked)').action(run(async (o: Opts) => {
      const { code } = await carerApi(o.url, 'POST', '/carer/pair', { ...(o.label ? { label: o.label } : {}), ...(o.address ? { address: o.address } : {}) });
      print(await carerApi(o.url, 'POST', '/carer/confirm', { code: o.code ?? (await ask(code)) }));
    }));
  url(carer.command('sync').argument('[wearable]', 'wearable id or label (default: all)')).action(run(async (w: string | undefined, o: Opts) => {
    print(await carerApi(o.url, 'POST', '/carer/sync', w ? { wearable: w } : {}));
  }));
  offline(url(carer.command('unpair').argument('<wearable>', 'wearable id or label')).option('--offline', 'do not tell the wearable'))
    .action(run(async (w: string, o: Opts) => {
      if (o.store || o.config) {
        const { store, client } = await offlineStore(o);
        print({ unpaired: await client.unpair(store.find(w).wearableId), told: false });
      } else print(await carerApi(o.url, 'POST', '/carer/unpair', { wearable: w, ...(o.offline ? { offline: true } : {}) }));
    }));
}
