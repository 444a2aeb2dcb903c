/** `beepkit wearable run|pair|status|revoke-carer`. Errors: one JSON line {code, message} on stderr, exit code 2. */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { WearableState } from './state.ts';
import { WearableResponder } from './responder.ts';
import { GattPeripheral } from './radio.ts';
import { WearableRecorder } from './recorder.ts';
import { fromHex } from '@beepkit/protocol/bytes';
import { EncounterLog, loadEncounters } from '@beepkit/agent/encounters';
import { ControlApiClock, loadVisits, type AgentClock } from '@beepkit/agent/app';
import { checkClockSpec, clockFromSpec } from '@beepkit/firmware-stubs/clock';
import type { Logger } from './state.ts';
import { hostNow } from '@beepkit/protocol/clock';

const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
const print = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + '\n');
type Opts = {
  dataDir: string; label?: string; uart?: string; hci?: string; scanUart?: string; scanHci?: string; clockUrl?: string; clock?: string; solverKey?: string;
  publishIntervalMs?: string; visitWindowMs?: string; visitExitMs?: string;
};

/** A positive integer option (ms), or E_CONFIG naming it. */
function msOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new BeepkitError('E_CONFIG', `${name}: ${v} is not a positive integer of ms`);
  return n;
}

/**
 * The scenario clock the options ask for (undefined: the host clock): `--clock-url`, a sim's control API,
 * or `--clock epochMs=…,wallMs=…,speed=…`, a rig's fixed mapping from wall time (the agents' `clock:`).
 */
function clockOption(o: Opts): AgentClock | undefined {
  if (o.clockUrl !== undefined && o.clock !== undefined) throw new BeepkitError('E_CONFIG', '--clock and --clock-url: give one of them');
  if (o.clockUrl !== undefined) return new ControlApiClock(o.clockUrl);
  if (o.clock === undefined) return undefined;
  const spec: Record<string, number> = {};
  for (const kv of o.clock.split(',')) {
    const m = /^\s*(\w+)\s*=\s*(\S+)\s*$/.exec(kv);
    if (!m) throw new BeepkitError('E_CONFIG', `--clock: ${JSON.stringify(kv)} is not key=value (epochMs=…,wallMs=…,speed=…)`);
    spec[m[1]!] = Number(m[2]);
  }
  if (spec.url !== undefined) throw new BeepkitError('E_CONFIG', '--clock: for a clock URL use --clock-url');
  checkClockSpec(spec, '--clock');
  return clockFromSpec(spec);
}

/** Progress on stderr: one JSON object per line ({t, level, msg, ...}), pino's shape. */
const line = (level: string) => (o: object, msg: string): void => void process.stderr.write(JSON.stringify({ t: new Date(hostNow()).toISOString(), level, msg, ...o }) + '\n');
const stderrLogger = (debug = false): Logger => ({ info: line('info'), warn: line('warn'), error: line('error'), debug: debug ? line('debug') : () => {} });

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
  const log = stderrLogger();
  const clock = clockOption(o);
  await clock?.start();
  const now = clock ? () => clock.now() : hostNow;
  const state = new WearableState({ dataDir: o.dataDir, label: o.label, logger: log, now: () => Math.floor(now() / 1000) });
  await state.start();
  if (o.solverKey) await state.setSolverKey(fromHex(o.solverKey.toLowerCase()));
  const radio = new GattPeripheral({ target: o.uart ? { uart: o.uart } : { hciIndex: Number(o.hci ?? 0) } });
  const scanner = o.scanUart ? { uart: o.scanUart } : o.scanHci !== undefined ? { hciIndex: Number(o.scanHci) } : undefined;
  const recorder = scanner
    ? new WearableRecorder({
      state, scanner, now, speed: clock?.speed, solverKey: state.solverKey, logger: log,
      // pairing mode is a short window in which the wearable announces itself: it keeps the controller's address
      // (a carer may pair by it, and a rotation between the carer's find and connect would fail the pairing)
      advertise: pairing ? (ad) => radio.advertiseEn(ad) : (ad, address) => radio.advertiseEn(ad, address),
      publisher: { intervalMs: msOption(o.publishIntervalMs, '--publish-interval-ms') },
      visits: { enterWindowMs: msOption(o.visitWindowMs, '--visit-window-ms'), exitAfterMs: msOption(o.visitExitMs, '--visit-exit-ms') },
    })
    : undefined;
  radio.on('warning', (m) => log.warn({}, m));
  const responder = new WearableResponder({ state, confirm: askUser, pairingAllowed: () => pairing, logger: log });
  responder.on('code', (code) => process.stderr.write(`pairing code: ${code}\n`));
  radio.on('link', (link) => {
    responder.serve(link).then((r) => {
      print(r);
      if (pairing && r.kind === 'paired') void (async () => {
        // the carer closes the link after the first sync: leave only then (a host vanishing under an open link leaves the carer's disconnect hanging)
        await new Promise<void>((resolve) => {
          link.once('close', () => resolve());
          setTimeout(resolve, 5_000).unref();
        });
        await recorder?.stop();
        await radio.stop();
        await state.stop();
        process.exit(0);
      })();
    }, (e) => fail(e));
  });
  await radio.start();
  await recorder?.start();
  print({ ready: true, pairing, recording: !!recorder, wearableId: Buffer.from(state.wearableId).toString('hex') });
  const progress = recorder ? setInterval(() => log.info({ ...recorder.status(), paired: state.pairing !== undefined }, 'wearable: status'), 30_000) : undefined;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(progress);
  await recorder?.stop();
  await radio.stop();
  await state.stop();
  clock?.stop();
  process.exit(0);
}

export function register(program: Command): void {
  const w = program.command('wearable').description('elder wearable: records offline, pairs with a carer over BLE');
  const common = (c: Command): Command => c.option('-d, --data-dir <dir>', 'data directory', '/var/lib/beepkit-wearable').option('--label <name>', "the person's name shown to the carer")
    .option('--uart <port>', 'HCI UART port of the peripheral (carer link, EN advertising)').option('--hci <index>', 'HCI device index of the peripheral');
  const recording = (c: Command): Command => common(c)
    .option('--scan-uart <port>', 'HCI UART port of a second controller: record (scan venues and EN peers); without a scan option nothing is recorded')
    .option('--scan-hci <index>', 'HCI device index to scan on (a Pi: the same hci0 as --hci works, the kernel shares it)')
    .option('--clock-url <url>', "follow a sim's scenario clock (GET → {now, speed, paused})")
    .option('--clock <spec>', "a rig's fixed scenario clock: epochMs=<scenario ms>,wallMs=<wall ms at it>,speed=<factor>")
    .option('--solver-key <hex>', "the solver's X25519 public key (32 bytes hex; kept in the profile): needed to seal stays into TraceCodes")
    .option('--publish-interval-ms <ms>', 'one publishing decision per interval (divides a day, ≥ 60000; default 1800000): a stay is sealed at the first decision after it ended')
    .option('--visit-window-ms <ms>', 'the 3 beacon frames that open a visit must fall within this window (default 10000)')
    .option('--visit-exit-ms <ms>', 'a visit ends this long after its last strong frame (default 60000)');
  recording(w.command('run').description('serve the paired carer (sync on connect); with --scan-uart/--scan-hci also record')).action((o: Opts) => serve(o, false).catch(fail));
  recording(w.command('pair').description('pairing mode: show the comparison code, confirm on both sides')).action((o: Opts) => serve(o, true).catch(fail));
  common(w.command('status')).action(async (o: Opts) => {
    try {
      const s = new WearableState({ dataDir: o.dataDir });
      await s.start();
      const visits = await loadVisits(join(o.dataDir, 'visits.bin'), s.logKey()).catch(() => []);
      const encounters = await loadEncounters(join(o.dataDir, 'encounters.bin'), s.logKey()).catch(() => new EncounterLog());
      print({
        wearableId: Buffer.from(s.wearableId).toString('hex'), label: s.label, paired: s.pairing !== undefined, pending: s.outbox.pending().length,
        visits: visits.length, encounters: encounters.size, solverKey: !!s.solverKey, today: s.today(),
      });
      await s.stop();
    } catch (e) {
      fail(e);
    }
  });
  common(w.command('revoke-carer').description('forget the carer and rotate the master: the carer gets no key of today or later'))
    .option('--clock-url <url>', "today from a sim's scenario clock")
    .option('--clock <spec>', "today from a rig's fixed scenario clock: epochMs=…,wallMs=…,speed=…").action(async (o: Opts) => {
    try {
      const clock = clockOption(o);
      await clock?.start();
      const s = new WearableState({ dataDir: o.dataDir, logger: stderrLogger(), ...(clock ? { now: () => Math.floor(clock.now() / 1000) } : {}) });
      await s.start();
      print(await s.revokeCarer());
      await s.stop();
      clock?.stop();
    } catch (e) {
      fail(e);
    }
  });
}
