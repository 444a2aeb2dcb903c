/**
 * `beepkit agent carer list|pair|cancel|sync|unpair`: clients of the running
 * agent's local API (`--url`, default the config's http.host:http.port; the
 * kit's API token from `<dataDir>/api-token` of `--config`, or `--token-file`;
 * agent/README.md "Carer"). `pair` shows the carer's code and asks for the
 * code the wearable shows; `--code` gives it up front (scripts). `list` and
 * `unpair` also work on the sealed store with no agent running (`--store`, or
 * `--config` when no agent answers: the store is sealed with the agent's
 * storage key). `token` prints the carer page's token and addresses
 * (agent/README.md "Carer page").
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { loadConfig } from '../config/index.ts';
import { secretOf, storageKey } from '../app/storage.ts';
import { CarerStore } from './store.ts';
import { CarerClient } from './client.ts';
import { apiTarget, callAgent, type ApiTarget } from '../app/api-client.ts';
import { print } from '@beepkit/device-core/infra/cli';
import { readApiPort } from '../app/api-token.ts';
import { ensureCarerToken, ensureKitCertificate, kitNames } from '../carer-page/index.ts';

type Opts = { url?: string; config?: string; tokenFile?: string; store?: string; label?: string; address?: string; code?: string; offline?: boolean };
const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
const ask = (code: string): Promise<string> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(`Carer code ${code}. Type the code the wearable shows: `, (a) => {
      rl.close();
      resolve(a.trim());
    });
  });

/** One call to the running agent's API (token and JSON type sent); a coded error reply becomes a BeepkitError. */
export async function carerApi(target: ApiTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  const { status, doc } = await callAgent(target, method, path, body);
  if (status === 404 && !doc) throw new BeepkitError('E_CONFIG', 'the agent does not act as a carer (config carer.enabled)');
  if (status !== 200) throw new BeepkitError(doc?.code ?? 'E_IO', doc?.message ?? `HTTP ${status}`);
  return doc;
}

/** The running agent's answer, or undefined when no agent answers (E_IO: the caller falls back to the sealed store). */
async function online(o: Opts, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  try {
    return await carerApi(await apiTarget(o), method, path, body);
  } catch (e) {
    if (o.config && !o.url && isBeepkitError(e) && (e.code === 'E_IO' || e.code === 'E_AUTH')) return undefined;
    throw e;
  }
}

async function offlineStore(o: Opts): Promise<{ store: CarerStore; client: CarerClient }> {
  const cfg = loadConfig(o.config);
  const store = await new CarerStore({
    path: o.store ?? cfg.carer.storePath!,
    key: await storageKey(cfg.dataDir, await secretOf(cfg)),
    retentionDays: cfg.keystore.retentionDays,
    wearablesDir: join(cfg.dataDir, 'wearables'),
  }).load();
  return { store, client: new CarerClient({ store, sink: async () => {} }) };
}

const run =
  (fn: (...a: any[]) => Promise<void>) =>
  async (...a: any[]): Promise<void> => {
    try {
      await fn(...a);
    } catch (e) {
      fail(e);
    }
  };

export function registerCarer(agent: Command): void {
  const carer = agent.command('carer').description('pair elder wearables through the running agent, list and unpair them');
  const url = (c: Command): Command =>
    c
      .option('--url <url>', 'the running agent (default: http://<http.host>:<http.port> of the config)')
      .option('-c, --config <file>', "the agent's config: its http.port, and the API token in its dataDir")
      .option('--token-file <file>', 'the API token (default <dataDir>/api-token of the config)');
  const offline = (c: Command): Command => c.option('--store <file>', 'read the sealed carer store directly (no agent running; with --config for its secret)');
  offline(url(carer.command('list'))).action(
    run(async (o: Opts) => {
      const listed = o.store ? undefined : await online(o, 'GET', '/carer/wearables');
      if (listed !== undefined) return print(listed);
      // no agent running: the sealed store itself
      const { store } = await offlineStore(o);
      print(
        store.list().map((w) => ({
          wearableId: w.wearableId,
          label: w.label,
          pairedMs: w.pairedMs,
          days: w.days.map((d) => d.day),
          records: w.received ?? w.seen.length,
          lastSyncMs: w.lastSyncMs,
        })),
      );
    }),
  );
  url(carer.command('pair'))
    .option('--label <name>', 'name of the person cared for')
    .option('--address <addr>', 'only this wearable (aa:bb:cc:dd:ee:ff)')
    .option('--code <digits>', 'the code the wearable shows (otherwise asked)')
    .action(
      run(async (o: Opts) => {
        const target = await apiTarget(o);
        const { code } = await carerApi(target, 'POST', '/carer/pair', {
          ...(o.label ? { label: o.label } : {}),
          ...(o.address ? { address: o.address } : {}),
        });
        print(await carerApi(target, 'POST', '/carer/confirm', { code: o.code ?? (await ask(code)) }));
      }),
    );
  carer
    .command('token')
    .description("print the kit's carer page token and the page's addresses (made on first use, <dataDir>/carer-token, 0600)")
    .option('-c, --config <file>', "the agent's config (its dataDir, http and carer.page)")
    .action(
      run(async (o: Opts) => {
        const cfg = loadConfig(o.config);
        const token = await ensureCarerToken(cfg.dataDir);
        const port = (await readApiPort(cfg.dataDir)) ?? cfg.http.port;
        const host = cfg.http.host === '::1' ? '[::1]' : cfg.http.host;
        const page = (base: string) => `${base}/carer/page/#token=${token}`;
        const out: Record<string, unknown> = { token, url: page(`http://${host}:${port}`) };
        if (cfg.carer.page.lan) {
          const cert = await ensureKitCertificate(cfg.dataDir, kitNames(cfg.carer.page.names));
          const name = cert.names.find((n) => n.endsWith('.local')) ?? cert.names.find((n) => n !== 'localhost' && n !== '127.0.0.1') ?? 'localhost';
          out.lan = { url: page(`https://${name}:${cfg.carer.page.port}`), names: cert.names, fingerprint: cert.fingerprint };
        }
        print(out);
      }),
    );
  url(carer.command('cancel'))
    .description('cancel the pairing in progress')
    .action(
      run(async (o: Opts) => {
        print(await carerApi(await apiTarget(o), 'POST', '/carer/cancel', {}));
      }),
    );
  url(carer.command('sync').argument('[wearable]', 'wearable id or label (default: all)')).action(
    run(async (w: string | undefined, o: Opts) => {
      print(await carerApi(await apiTarget(o), 'POST', '/carer/sync', w ? { wearable: w } : {}));
    }),
  );
  offline(url(carer.command('unpair').argument('<wearable>', 'wearable id or label')).option('--offline', 'do not tell the wearable')).action(
    run(async (w: string, o: Opts) => {
      const done = o.store ? undefined : await online(o, 'POST', '/carer/unpair', { wearable: w, ...(o.offline ? { offline: true } : {}) });
      if (done !== undefined) return print(done);
      const { store, client } = await offlineStore(o);
      print({ unpaired: await client.unpair(store.find(w).wearableId), told: false });
    }),
  );
}
