/**
 * `beepkit agent carer list|pair|unpair`. Call `registerCarer(agentCommand)`
 * from agent/src/cli.ts (in place of the stub). The store is sealed with the
 * 32-byte key in --key-file (0600).
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { readKeyFile } from '../keys/index.ts';
import { GattCentral } from '../radio/gatt-central.ts';
import { CarerStore } from './store.ts';
import { CarerClient } from './client.ts';

type Opts = { store: string; keyFile: string; uart?: string; hci?: string; label?: string; address?: string };
const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
const print = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + '\n');

const askCode = (code: string): Promise<boolean> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(`Carer code ${code}. Type the code the wearable shows: `, (a) => {
      rl.close();
      resolve(a.trim() === code);
    });
  });

async function open(o: Opts): Promise<{ store: CarerStore; client: CarerClient }> {
  const store = await new CarerStore({ path: o.store, key: await readKeyFile(o.keyFile) }).load();
  return { store, client: new CarerClient({ store, sink: async () => {} }) };
}

async function connect(o: Opts): Promise<{ central: GattCentral; link: Awaited<ReturnType<GattCentral['connect']>> }> {
  const central = new GattCentral({ target: o.uart ? { uart: o.uart } : { hciIndex: Number(o.hci ?? 0) } });
  await central.start();
  return { central, link: await central.connect(await central.find(60_000, o.address)) };
}

export function registerCarer(agent: Command): void {
  const carer = agent.command('carer').description('pair elder wearables, receive their keys and records');
  const common = (c: Command): Command => c.requiredOption('--store <file>', 'carer store (sealed)').requiredOption('--key-file <file>', '32-byte sealing key (0600)')
    .option('--uart <port>', 'HCI UART port of the central controller').option('--hci <index>', 'HCI device index');
  common(carer.command('list')).action(async (o: Opts) => {
    try {
      const { store } = await open(o);
      print(store.list().map((w) => ({ wearableId: w.wearableId, label: w.label, pairedMs: w.pairedMs, days: w.days.map((d) => d.day), records: w.seen.length, lastSyncMs: w.lastSyncMs })));
    } catch (e) {
      fail(e);
    }
  });
  common(carer.command('pair')).option('--label <name>', 'name of the person cared for').option('--address <addr>', 'only this wearable').action(async (o: Opts) => {
    try {
      const { client } = await open(o);
      const { central, link } = await connect(o);
      print(await client.pair(link, askCode, o.label));
      await central.stop();
      process.exit(0);
    } catch (e) {
      fail(e);
      process.exit(2);
    }
  });
  common(carer.command('unpair').argument('<wearable>', 'wearable id or label')).option('--offline', 'do not tell the wearable').action(async (w: string, o: Opts & { offline?: boolean }) => {
    try {
      const { client, store } = await open(o);
      const id = store.find(w).wearableId;
      if (o.offline) print({ unpaired: await client.unpair(id) });
      else {
        const { central, link } = await connect(o);
        print({ unpaired: await client.unpair(id, link) });
        await central.stop();
      }
      process.exit(0);
    } catch (e) {
      fail(e);
      process.exit(2);
    }
  });
}
