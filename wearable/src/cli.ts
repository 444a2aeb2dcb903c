/** `beepkit wearable run|pair|status|revoke-carer`. Errors: one JSON line {code, message} on stderr, exit code 2. */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { WearableState } from './state.ts';
import { WearableResponder } from './responder.ts';
import { GattPeripheral } from './radio.ts';

const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
const print = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + '\n');
type Opts = { dataDir: string; label?: string; uart?: string; hci?: string };

/** Asks the wearable's user (console stand-in for a display and a button). */
const askUser = (code: string): Promise<boolean> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(`Pairing code ${code}: does the carer show the same code? [y/N] `, (a) => {
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    });
  });

async function serve(o: Opts, pairing: boolean): Promise<void> {
  const state = new WearableState({ dataDir: o.dataDir, label: o.label });
  await state.start();
  const radio = new GattPeripheral({ target: o.uart ? { uart: o.uart } : { hciIndex: Number(o.hci ?? 0) } });
  const responder = new WearableResponder({ state, confirm: askUser, pairingAllowed: () => pairing });
  responder.on('code', (code) => process.stderr.write(`pairing code: ${code}\n`));
  radio.on('link', (link) => {
    responder.serve(link).then((r) => {
      print(r);
      if (pairing && r.kind === 'paired') void state.stop().then(() => process.exit(0));
    }, (e) => fail(e));
  });
  await radio.start();
  print({ ready: true, pairing, wearableId: Buffer.from(state.wearableId).toString('hex') });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await radio.stop();
  await state.stop();
  process.exit(0);
}

export function register(program: Command): void {
  const w = program.command('wearable').description('elder wearable: records offline, pairs with a carer over BLE');
  const common = (c: Command): Command => c.option('-d, --data-dir <dir>', 'data directory', '/var/lib/beepkit-wearable').option('--label <name>', "the person's name shown to the carer")
    .option('--uart <port>', 'HCI UART port').option('--hci <index>', 'HCI device index');
  common(w.command('run').description('serve the paired carer (sync on connect)')).action((o: Opts) => serve(o, false).catch(fail));
  common(w.command('pair').description('pairing mode: show the comparison code, confirm on both sides')).action((o: Opts) => serve(o, true).catch(fail));
  common(w.command('status')).action(async (o: Opts) => {
    try {
      const s = new WearableState({ dataDir: o.dataDir });
      await s.start();
      print({ wearableId: Buffer.from(s.wearableId).toString('hex'), label: s.label, paired: s.pairing !== undefined, pending: s.outbox.pending().length, today: s.today() });
      await s.stop();
    } catch (e) {
      fail(e);
    }
  });
  common(w.command('revoke-carer').description('forget the carer and rotate the master: the carer gets no key of today or later')).action(async (o: Opts) => {
    try {
      const s = new WearableState({ dataDir: o.dataDir, logger: { info: (x, m) => process.stderr.write(`${m} ${JSON.stringify(x)}\n`), warn() {}, error() {}, debug() {} } });
      await s.start();
      print(await s.revokeCarer());
      await s.stop();
    } catch (e) {
      fail(e);
    }
  });
}
