/** `beepkit wearable run|pair|status|revoke-carer`. Errors: one JSON line {code, message} on stderr, exit code 2. */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { WearableState } from './state.ts';
import { WearableResponder } from './responder.ts';
import { BtsnoopWriter, hciTarget } from '@beepkit/device-core/radio';
import { GattPeripheral } from './radio.ts';
import { WearableRecorder } from './recorder.ts';
import { ControlServer, controlRequest, DirLock, type ControlHandler } from './control.ts';
import { PairingWindow } from './pairing-window.ts';
import { fromHex } from '@beepkit/protocol/bytes';
import { EncounterLog, loadEncounters } from '@beepkit/device-core/encounters';
import { loadVisits } from '@beepkit/device-core/visits';
import { ControlApiClock, clockFromSpec } from '@beepkit/device-core/clock';
import { checkClockSpec, type ScenarioClock as AgentClock } from '@beepkit/protocol/clock-spec';
import type { Logger } from './state.ts';
import { hostNow } from '@beepkit/protocol/clock';
import { print } from '@beepkit/device-core/infra/cli';
import { deviceCalibration } from '@beepkit/device-core/rssi';

const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
type Opts = {
  dataDir: string;
  label?: string;
  uart?: string;
  baudRate?: string;
  hci?: string;
  scanUart?: string;
  scanBaudRate?: string;
  scanHci?: string;
  clockUrl?: string;
  clock?: string;
  solverKey?: string;
  publishIntervalMs?: string;
  visitWindowMs?: string;
  visitExitMs?: string;
  pairingWindowMs?: string;
  btsnoop?: string;
  model?: string;
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
const line =
  (level: string) =>
  (o: object, msg: string): void =>
    void process.stderr.write(JSON.stringify({ t: new Date(hostNow()).toISOString(), level, msg, ...o }) + '\n');
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

async function statusOf(s: WearableState, dataDir: string): Promise<Record<string, unknown>> {
  const visits = await loadVisits(join(dataDir, 'visits.bin'), s.logKey()).catch(() => []);
  const encounters = await loadEncounters(join(dataDir, 'encounters.bin'), s.logKey()).catch(() => new EncounterLog());
  return {
    wearableId: Buffer.from(s.wearableId).toString('hex'),
    label: s.label,
    paired: s.pairing !== undefined,
    pending: s.outbox.pending().length,
    visits: visits.length,
    encounters: encounters.size,
    solverKey: !!s.solverKey,
    today: s.today(),
  };
}

async function serve(o: Opts, pairing: boolean): Promise<void> {
  const log = stderrLogger();
  const lock = new DirLock(o.dataDir);
  await lock.acquire(); // one process per data directory; revoke-carer goes through the control socket below
  const clock = clockOption(o);
  await clock?.start();
  const now = clock ? () => clock.now() : hostNow;
  const state = new WearableState({ dataDir: o.dataDir, label: o.label, logger: log, now: () => Math.floor(now() / 1000) });
  await state.start();
  if (o.solverKey) await state.setSolverKey(fromHex(o.solverKey.toLowerCase()));
  const scanner =
    o.scanUart || o.scanHci !== undefined ? hciTarget({ uart: o.scanUart, baudRate: o.scanBaudRate, index: o.scanHci }, 'scan controller') : undefined;
  // with a recorder it gives the adverts (EN from its NRPA, pairing from the carer's RPA): nothing from the public address before
  // the model's calibration (agent/README.md "Proximity"): RSSI correction of the scan radio, TX power in the AEM
  const cal = o.model ? deviceCalibration({ model: o.model }) : undefined;
  const btsnoop = o.btsnoop ? new BtsnoopWriter(o.btsnoop, now) : undefined;
  const radio = new GattPeripheral({
    target: hciTarget({ uart: o.uart, baudRate: o.baudRate, index: o.hci }, 'peripheral controller'),
    quiet: !!scanner && !pairing,
    btsnoop,
  });
  const recorder = scanner
    ? new WearableRecorder({
        state,
        scanner,
        now,
        rssiCorrection: cal?.rssiCorrection,
        speed: clock?.speed,
        solverKey: state.solverKey,
        logger: log,
        btsnoop,
        // the AEM's TX power: the model's calibrated value (--model), else the peripheral controller's advertising TX power
        // (−8 dBm until it reported one)
        txPower: cal ? cal.txPower : () => radio.advTxPower,
        // pairing mode is a short window in which the wearable announces itself: its pairing advert keeps the controller's
        // address (a carer may pair by it, and a rotation between the carer's find and connect would fail the pairing);
        // paired, the pairing advert goes out from the carer's RPA; unpaired outside pairing mode, no pairing advert
        advertise: pairing ? (ad, en) => radio.advertiseEn(ad, en, 'public') : (ad, en, carer) => radio.advertiseEn(ad, en, carer ?? null),
        publisher: { intervalMs: msOption(o.publishIntervalMs, '--publish-interval-ms') },
        visits: { enterWindowMs: msOption(o.visitWindowMs, '--visit-window-ms'), exitAfterMs: msOption(o.visitExitMs, '--visit-exit-ms') },
      })
    : undefined;
  radio.on('warning', (m) => log.warn({}, m));
  // the pairing window runs on real (monotonic) time: a user's two minutes, whatever the scenario clock does
  const window = pairing
    ? new PairingWindow({ now: () => performance.now(), windowMs: msOption(o.pairingWindowMs, '--pairing-window-ms'), logger: log })
    : undefined;
  const responder = new WearableResponder({
    state,
    confirm: askUser,
    pairingAllowed: () => window?.allowed() ?? false,
    logger: log,
    onPairingStarted: () => window?.started(),
    onPairingFailed: (f) => window?.failed(f),
    onPaired: () => window?.paired(),
  });
  responder.on('code', (code) => process.stderr.write(`pairing code: ${code}\n`));
  // revocation: the carer's open links end before the master is rotated (nothing more is sent on them)
  state.on('revoking', () => void responder.revokeSessions().then((n) => n && log.info({ sessions: n }, "wearable: the revoked carer's open link was ended")));
  const handler: ControlHandler = async (req) => {
    if (req.op === 'revoke-carer') {
      const r = await state.revokeCarer();
      recorder?.rekey(); // new identifiers and an address the old IRK does not resolve, now
      return { ...r, via: 'running' };
    }
    if (req.op === 'status') return { ...(await statusOf(state, o.dataDir)), running: true, pairingMode: window ? (window.closedReason ?? 'open') : 'off' };
    throw new BeepkitError('E_UNKNOWN_OP', `control: unknown op ${JSON.stringify(req.op).slice(0, 40)}`);
  };
  const control = new ControlServer({ dataDir: o.dataDir, handler });
  const serving = new Set<Promise<unknown>>();
  radio.on('link', (link) => {
    const p = responder.serve(link).then(
      (r) => {
        print(r);
        if (pairing && r.kind === 'paired')
          void (async () => {
            // the carer closes the link after the first sync: leave only then (a host vanishing under an open link leaves the carer's disconnect hanging)
            await new Promise<void>((resolve) => {
              link.once('close', () => resolve());
              setTimeout(resolve, 5_000).unref();
            });
            await recorder?.stop();
            await radio.stop();
            await control.stop();
            await state.stop();
            await btsnoop?.close();
            process.exit(0);
          })();
      },
      (e) => fail(e),
    );
    serving.add(p);
    void p.finally(() => serving.delete(p));
  });
  await control.start(); // before the radio: revoke-carer and status reach the process while the controller powers on
  try {
    await radio.start();
    await recorder?.start();
  } catch (e) {
    await control.stop(); // its server would keep a failed start alive
    throw e;
  }
  window?.open(true);
  print({ ready: true, pairing, recording: !!recorder, wearableId: Buffer.from(state.wearableId).toString('hex') });
  const progress = recorder
    ? setInterval(() => log.info({ ...recorder.status(), paired: state.pairing !== undefined }, 'wearable: status'), 30_000)
    : undefined;
  const ended = await new Promise<{ reason: string; failures: number } | undefined>((resolve) => {
    process.once('SIGINT', () => resolve(undefined));
    process.once('SIGTERM', () => resolve(undefined));
    window?.on('closed', (c) => c.reason !== 'paired' && resolve(c));
  });
  clearInterval(progress);
  if (ended) await Promise.race([Promise.allSettled([...serving]), new Promise((r) => setTimeout(r, 5_000).unref())]); // the refusal reaches the carer
  window?.stop();
  await control.stop();
  await recorder?.stop();
  await radio.stop();
  await state.stop();
  await btsnoop?.close();
  clock?.stop();
  if (ended) {
    fail(new BeepkitError('E_PAIRING_CLOSED', `pairing mode ended (${ended.reason}) after ${ended.failures} failed attempt(s): run \`wearable pair\` again`));
    process.exit(2);
  }
  process.exit(0);
}

export function register(program: Command): void {
  const w = program.command('wearable').description('elder wearable: records offline, pairs with a carer over BLE');
  const dataDir = (c: Command): Command => c.option('-d, --data-dir <dir>', 'data directory', '/var/lib/beepkit-wearable');
  // the radio and the label belong to the commands that serve (status and revoke-carer take the data dir only)
  const common = (c: Command): Command =>
    dataDir(c)
      .option('--label <name>', "the person's name shown to the carer")
      .option('--uart <port>', 'HCI UART port of the peripheral (carer link, EN advertising)')
      .option('--baud-rate <n>', "the --uart controller's baud rate (default: the binding's)")
      .option('--hci <index>', 'HCI device index of the peripheral');
  const recording = (c: Command): Command =>
    common(c)
      .option('--scan-uart <port>', 'HCI UART port of a second controller: record (scan venues and EN peers); without a scan option nothing is recorded')
      .option('--scan-baud-rate <n>', "the --scan-uart controller's baud rate (default: the binding's)")
      .option('--scan-hci <index>', 'HCI device index to scan on (a Pi: the same hci0 as --hci works, the kernel shares it)')
      .option('--clock-url <url>', "follow a sim's scenario clock (GET → {now, speed, paused})")
      .option('--clock <spec>', "a rig's fixed scenario clock: epochMs=<scenario ms>,wallMs=<wall ms at it>,speed=<factor>")
      .option('--solver-key <hex>', "the solver's X25519 public key (32 bytes hex; kept in the profile): needed to seal stays into TraceCodes")
      .option(
        '--publish-interval-ms <ms>',
        'one publishing decision per interval (divides a day, ≥ 60000; default 1800000): a stay is sealed at the first decision after it ended',
      )
      .option('--visit-window-ms <ms>', 'the 3 beacon frames that open a visit must fall within this window (default 10000)')
      .option('--visit-exit-ms <ms>', 'a visit ends this long after its last strong frame (default 60000)')
      .option('--btsnoop <file>', "write both controllers' HCI traffic to a btsnoop capture (Wireshark, btmon -r); it holds the wearable's addresses and RPIs")
      .option('--model <name>', 'the device model in the calibration table (agent/README.md "Proximity"): RSSI correction and the AEM\'s TX power');
  recording(w.command('run').description('serve the paired carer (sync on connect); with --scan-uart/--scan-hci also record')).action((o: Opts) =>
    serve(o, false).catch(fail),
  );
  recording(
    w.command('pair').description('pairing mode: show the comparison code, confirm on both sides; ends after the window, a failed confirmation or E_COMMIT'),
  )
    .option('--pairing-window-ms <ms>', 'pairing mode ends after this long (real ms, from ready; default 120000)')
    .action((o: Opts) => serve(o, true).catch(fail));
  dataDir(w.command('status').description('the profile, the pairing and the counts (from the running wearable when there is one)')).action(async (o: Opts) => {
    const lock = new DirLock(o.dataDir);
    try {
      const running = await controlRequest(o.dataDir, { op: 'status' });
      if (running) return print(running);
      await lock.acquire();
      const s = new WearableState({ dataDir: o.dataDir });
      await s.start();
      print(await statusOf(s, o.dataDir));
      await s.stop();
    } catch (e) {
      fail(e);
    } finally {
      lock.releaseSync();
    }
  });
  dataDir(
    w
      .command('revoke-carer')
      .description('forget the carer and rotate the master: the carer gets no key of today or later; through the running wearable when there is one'),
  )
    .option('--clock-url <url>', "today from a sim's scenario clock (without a running wearable)")
    .option('--clock <spec>', "today from a rig's fixed scenario clock: epochMs=…,wallMs=…,speed=… (without a running wearable)")
    .action(async (o: Opts) => {
      const log = stderrLogger();
      const lock = new DirLock(o.dataDir);
      try {
        // a running wearable does it itself (it also ends the carer's open link and changes its identifiers at once)
        const running = await controlRequest(o.dataDir, { op: 'revoke-carer' });
        if (running) {
          log.info({ via: 'running' }, 'wearable: carer revoked, master rotated');
          return print(running);
        }
        await lock.acquire(); // none running: nobody else writes the data directory meanwhile
        const clock = clockOption(o);
        await clock?.start();
        const s = new WearableState({ dataDir: o.dataDir, logger: log, ...(clock ? { now: () => Math.floor(clock.now() / 1000) } : {}) });
        await s.start();
        print({ ...(await s.revokeCarer()), via: 'offline' });
        await s.stop();
        clock?.stop();
      } catch (e) {
        fail(e);
      } finally {
        lock.releaseSync();
      }
    });
}
