/**
 * `beepkit agent …`: run, status, calibrate, keys renounce|rotate, consent,
 * carer. Errors print one JSON line {code, message} on stderr; exit code 2
 * for a bad configuration or a failed command (64 for bad usage, from bin/cli.ts).
 */
import { registerCarer } from './carer/cli.ts';
import { registerProximity } from './proximity/cli.ts';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createLogger } from '@beepkit/device-core/infra/log';
import { BeepkitError, toHex } from '@beepkit/protocol';
import { venueId8, venueIdHex } from '@beepkit/protocol/frames';
import { buildConsent, challengeFromFile, consentDocument, type VisitEntry } from '@beepkit/protocol/endorse';
import { loadConfig, type AgentConfig } from './config/index.ts';
import {
  Agent,
  receiverCalibration,
  writeUnitCalibration,
  apiTarget,
  callAgent,
  SHARED_FILE,
  clockFromConfig,
  mqttNetwork,
  recordShared,
  secretOf,
  storageKey,
} from './app/index.ts';
import { loadVisits } from '@beepkit/device-core/visits';
import { sharedFromConsent } from './follow/index.ts';
import { KeystoreFile } from '@beepkit/device-core/keys';
import { DEFAULT_RETENTION_DAYS, retentionCutoff } from '@beepkit/protocol/keys';
import { BtsnoopWriter, HciRadio } from '@beepkit/device-core/radio';
import { CalibrationCollector, calibrate } from '@beepkit/device-core/rssi';
import { hostNow } from '@beepkit/protocol/clock';
import { queryVenueStatus } from './app/venue-query.ts';
import { fail, print } from '@beepkit/device-core/infra/cli';
import { logPlatform } from '@beepkit/device-core/infra/native';
import { registerDoctor } from './doctor/cli.ts';

const action =
  <A extends unknown[]>(fn: (...a: A) => Promise<void>) =>
  async (...a: A): Promise<void> => {
    try {
      await fn(...a);
    } catch (e) {
      fail(e);
    }
  };

/** The agent's logger: never prints keys, passphrases or positions even if a caller passes them. */
export function agentLogger(level: AgentConfig['log']['level']) {
  return createLogger({
    service: 'beepkit-agent',
    level,
    redact: ['passphrase', 'password', 'key', 'tek', 'rpi', 'address', 'lat', 'lon', 'prefix', 'pseudonym'],
  });
}

/** Runs the agent until SIGINT/SIGTERM, then stops it. */
export async function runAgent(configPath: string | undefined, btsnoopPath?: string): Promise<void> {
  const cfg = loadConfig(configPath);
  const log = agentLogger(cfg.log.level);
  logPlatform(log, 'agent'); // Node, CPU and each native module's binary: an architecture problem names itself here
  const clock = clockFromConfig(cfg.clock);
  await clock?.start();
  const btsnoop = btsnoopPath ? new BtsnoopWriter(btsnoopPath, clock ? () => clock.now() : hostNow) : undefined;
  const agent = new Agent(cfg, { logger: log, network: cfg.broker.url ? mqttNetwork : undefined, clock, btsnoop });
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (sig: string): void => {
      log.info({ sig }, 'stopping');
      void agent.stop().then(resolve, () => resolve());
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await agent.start();
  process.stdout.write(JSON.stringify({ ready: true, http: agent.httpPort }) + '\n');
  await stopped;
  await btsnoop?.close();
  // everything is closed and flushed; the BLE stacks keep handles of their own alive, so leave explicitly
  process.exit(0);
}

async function openKeystore(cfg: AgentConfig): Promise<KeystoreFile> {
  return KeystoreFile.open(cfg.keystore.path!, await secretOf(cfg), { create: { retentionDays: cfg.keystore.retentionDays } });
}

/**
 * `--days`: N, N-M or a comma list of UTC day numbers. Without it, the window a diagnosis looks back over: the last
 * 14 days (the verifier's window) the keystore still holds, today included. Only today would drop what a patient did
 * yesterday, e.g. every visit of the evening before a consent given after midnight.
 */
function parseDays(spec: string | undefined, today: number, firstKept = 0): number[] {
  if (!spec) {
    const out: number[] = [];
    for (let d = Math.max(today - DEFAULT_RETENTION_DAYS + 1, firstKept, 0); d <= today; d++) out.push(d);
    return out;
  }
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new BeepkitError('E_CONFIG', `--days: expected N, N-M or a comma list, got ${JSON.stringify(part)}`);
    for (let d = Number(m[1]); d <= Number(m[2] ?? m[1]); d++) out.push(d);
  }
  return out;
}

async function consent(o: {
  config?: string;
  diagnostician: string;
  challenge: string;
  days?: string;
  teks?: boolean;
  visits?: boolean;
  out?: string;
}): Promise<void> {
  const cfg = loadConfig(o.config);
  const ks = await openKeystore(cfg);
  const challenge = challengeFromFile(new Uint8Array(await readFile(o.challenge)), o.challenge);
  if (toHex(challenge.diagnostician) !== o.diagnostician.toLowerCase()) throw new BeepkitError('E_KEY', 'the challenge was not issued by this diagnostician');
  const days = parseDays(o.days, ks.today(), retentionCutoff(ks.state, ks.today()));
  const keys = days.flatMap((d) => {
    try {
      return [ks.dayKeys(d)];
    } catch {
      return []; // renounced or purged: nothing to prove
    }
  });
  const key = await storageKey(cfg.dataDir, await secretOf(cfg));
  let visits: VisitEntry[] | undefined;
  if (o.visits) {
    const all = await loadVisits(`${cfg.dataDir}/visits.bin`, key);
    const wanted = new Set(days);
    // consent venue ids are 8 bytes (protocol venueId8)
    visits = all
      .filter((v) => v.exit !== undefined && wanted.has(Math.floor(v.entry / 86_400_000)))
      .map((v) => ({ venue: venueId8(v.venueId), entry: Math.floor(v.entry / 1000), exit: Math.floor(v.exit! / 1000) }));
  }
  const c = buildConsent(challenge, keys, { teks: !!o.teks, visits });
  // durably, before the bundle leaves: the running agent must not alert on what this endorsement causes
  await recordShared(`${cfg.dataDir}/${SHARED_FILE}`, sharedFromConsent(c, venueIdHex), key);
  const doc = consentDocument(c);
  if (o.out) await writeFile(o.out, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  else print(doc);
}

async function calibrateCmd(o: { config?: string; beacon: string; samples: string; expected: string; timeout: string; dryRun?: boolean }): Promise<void> {
  const cfg = loadConfig(o.config);
  if (!cfg.radio.scanner) throw new BeepkitError('E_CONFIG', 'config radio.scanner: needed to calibrate');
  const n = Number(o.samples);
  const collector = new CalibrationCollector(o.beacon, n);
  const radio = new HciRadio({ scanner: cfg.radio.scanner, powerOnTimeoutMs: cfg.radio.powerOnTimeoutMs, now: hostNow });
  await radio.start();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BeepkitError('E_CALIBRATION_SAMPLES', `only ${collector.samples.length} of ${n} samples in ${o.timeout} s`)),
        Number(o.timeout) * 1000,
      );
      radio.on('advert', (ev) => {
        if (collector.push(ev)) {
          clearTimeout(timer);
          resolve();
        }
      });
      radio.startScan({ dutyCycle: 'continuous' }).catch(reject);
    });
  } finally {
    await radio.stop();
  }
  // the unit's correction is measured on top of its model's (radio.model): expected − (median + model correction)
  const model = receiverCalibration({ ...cfg, radio: { ...cfg.radio, rssiCorrection: 0 } });
  const expected = Number(o.expected);
  const r = calibrate(
    collector.samples.map((s) => s + model.rssiCorrection),
    { expectedRssiAt1m: expected, minSamples: Math.min(n, 30) },
  );
  const unit = {
    unitCorrection: r.correction,
    model: cfg.radio.model,
    tableVersion: model.tableVersion,
    medianRssi: r.medianRssi - model.rssiCorrection,
    spreadDb: r.spreadDb,
    samples: r.samples,
    expectedRssiAt1m: expected,
    at: hostNow(),
  };
  const path = o.dryRun ? undefined : await writeUnitCalibration(cfg.dataDir, unit);
  print({
    ...r,
    medianRssi: unit.medianRssi,
    modelCorrection: model.rssiCorrection,
    model: model.model.name,
    modelSource: model.model.source,
    written: path ?? null,
  });
}

export function register(program: Command): void {
  const agent = program.command('agent').description('the device agent: run it, query it, manage its keys');
  const cfgOpt = (c: Command): Command => c.option('-c, --config <file>', 'agent.yaml (env overrides: BEEPKIT_AGENT_*)');

  cfgOpt(agent.command('run').description('run the agent (SIGINT/SIGTERM: graceful stop)'))
    .option('--btsnoop <file>', "write both controllers' HCI traffic to a btsnoop capture (Wireshark, btmon -r); it holds this device's addresses and RPIs")
    .action(action((o: { config?: string; btsnoop?: string }) => runAgent(o.config, o.btsnoop)));

  cfgOpt(agent.command('status').description("print a running agent's /status (sends the kit's API token from <dataDir>/api-token)"))
    .option('--url <url>', 'status URL (default: http://<http.host>:<http.port>/status of the config)')
    .option('--token-file <file>', 'the API token (default <dataDir>/api-token of the config)')
    .action(
      action(async (o: { url?: string; config?: string; tokenFile?: string }) => {
        const target = await apiTarget({ config: o.config, tokenFile: o.tokenFile, url: o.url });
        const { status, doc } = await callAgent(target, 'GET', o.url ?? '/status', undefined, 5_000);
        if (status !== 200) throw new BeepkitError(doc?.code ?? 'E_IO', doc?.message ?? `HTTP ${status}`);
        print(doc);
      }),
    );

  cfgOpt(
    agent
      .command('calibrate')
      .description("measure this receiver against a reference beacon at 1 m; writes this unit's correction to <dataDir>/calibration.json"),
  )
    .requiredOption('--beacon <address>', 'reference beacon address')
    .option('--samples <n>', 'samples to collect', '60')
    .option('--expected <dBm>', 'RSSI a calibrated receiver reads at 1 m', '-59')
    .option('--timeout <s>', 'give up after', '120')
    .option('--dry-run', 'print the correction, do not write <dataDir>/calibration.json')
    .action(action(calibrateCmd));

  const keys = agent.command('keys').description('renounce a day, or rotate the master secret');
  cfgOpt(keys.command('renounce').description("destroy one day's keys (UTC day number)"))
    .requiredOption('--day <d>', 'UTC day number')
    .action(
      action(async (o: { config?: string; day: string }) => {
        const ks = await openKeystore(loadConfig(o.config));
        const day = Number(o.day);
        if (!Number.isInteger(day) || day < 0) throw new BeepkitError('E_CONFIG', `--day: not a day number: ${o.day}`);
        await ks.renounce(day);
        print({ renounced: day });
      }),
    );
  cfgOpt(keys.command('rotate').description('a new random master secret from today on')).action(
    action(async (o: { config?: string }) => {
      const ks = await openKeystore(loadConfig(o.config));
      await ks.rotate();
      print({ rotated: true, fromDay: ks.today() });
    }),
  );

  cfgOpt(agent.command('consent').description('prove ownership of pseudonyms to a diagnostician (writes a beepkit-consent file)'))
    .requiredOption('--diagnostician <id>', "the diagnostician's public key (hex)")
    .requiredOption('--challenge <file>', 'the beepkit-challenge file of `beepkit diagnose challenge` (or the challenge, binary or hex)')
    .option('--days <list>', 'UTC day numbers: N, N-M, comma lists (default: the last 14 days the kit holds, today included)')
    .option('--teks', 'include the TEKs of past days')
    .option('--visits', 'include venue visits of those days')
    .option('-o, --out <file>', 'write the bundle here (default stdout)')
    .action(action(consent));

  cfgOpt(
    agent
      .command('venue-status')
      .description("ask the gateway for a venue's state before a visit (empty, infected, clean)")
      .argument('<id>', 'venue id (12 or 16 hex digits)'),
  ).action(action(async (id: string, o: { config?: string }) => print(await queryVenueStatus(loadConfig(o.config), id))));

  registerCarer(agent);
  registerProximity(program);
  registerDoctor(program);
}
