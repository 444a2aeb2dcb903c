/** `beepkit gateway …`: run, venue add|list|revoke, device add|list|revoke, diagnostician add, keys. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '@beepkit/device-core/infra/log';
import { BeepkitError, fromHex, toHex } from '@beepkit/protocol';
import { issueCertificate, keyId } from '@beepkit/protocol/cert';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { loadOrCreateKeys } from '../ca/keys.ts';
import { writeFileAtomicSync } from '@beepkit/device-core/infra/files';
import { VenueRegistry } from '../ca/registry.ts';
import { checkClockSpec, clockFromSpec } from './clock.ts';
import { loadConfig } from './config.ts';
import { addDevice, listDevices, revokeDevice } from './devices.ts';
import { Gateway } from './gateway.ts';
import { hostNow } from '@beepkit/protocol/clock';
import { fail, print } from '@beepkit/device-core/infra/cli';
import { registerAnchor } from '../anchor/cli.ts';

/** Certificates issued here start this far in the past: the clock skew allowed between the gateway and the machine that uses them. */
const ISSUE_BACKDATE_S = 300;

interface DirOpts {
  config?: string;
  dataDir?: string;
}
function dataDir(o: DirOpts): string {
  return o.dataDir ?? loadConfig(o.config).dataDir;
}

function num(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new BeepkitError('E_CONFIG', `${what}: not a number: ${s}`);
  return n;
}

/**
 * Runs the gateway until SIGINT/SIGTERM, then stops gracefully. `clockUrl`
 * (`--clock-url`, a sim's control API …/clock) overrides the config's `clock:`.
 */
export async function runGateway(configPath: string | undefined, opts: { clockUrl?: string } = {}): Promise<void> {
  const cfg = loadConfig(configPath);
  if (opts.clockUrl !== undefined) {
    checkClockSpec({ url: opts.clockUrl });
    cfg.clock = { url: opts.clockUrl };
  }
  const log = createLogger({ service: 'beepkit-gateway', level: cfg.log.level, redact: ['password', 'key', 'lat', 'lon', 'latE6', 'lonE6'] });
  const clock = clockFromSpec(cfg.clock);
  await clock?.start();
  const gw = new Gateway({ config: cfg, logger: log, now: clock ? () => clock.now() : hostNow });
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (sig: string): void => {
      log.info({ sig }, 'stopping');
      void gw
        .stop()
        .finally(() => clock?.stop())
        .then(resolve, (e: unknown) => {
          log.error({ err: String(e) }, 'stop failed');
          resolve();
        });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    await gw.start();
  } catch (e) {
    await gw.stop().catch(() => {});
    clock?.stop();
    throw e;
  }
  process.stdout.write(JSON.stringify({ ready: true, broker: gw.brokerUrl, brokerTls: gw.broker?.tlsUrl, http: gw.httpPort, pid: process.pid }) + '\n');
  await stopped;
}

/** A venue key file written by `beepkit beacon provision`: 32 bytes as 64 hex digits (surrounding whitespace ignored). */
function venueKeyFile(path: string): Uint8Array {
  const text = readFileSync(path, 'utf8').trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new BeepkitError('E_KEY', `${path}: a venue key file holds 64 hex digits`);
  return fromHex(text);
}

export function registerGateway(program: Command): void {
  const gw = program.command('gateway').description('MQTT gateway: ingest, CA, notification feed');
  registerAnchor(gw);
  const dirOpts = (c: Command): Command =>
    c.option('-c, --config <file>', 'gateway.yaml (for dataDir)').option('-d, --data-dir <dir>', 'gateway data directory');

  gw.command('run')
    .description('run the gateway (SIGINT/SIGTERM: graceful stop)')
    .option('-c, --config <file>', 'gateway.yaml (env overrides: BEEPKIT_GATEWAY_*)')
    .option('--clock-url <url>', "follow a simulator's scenario clock (its control API …/clock) instead of the host clock")
    .action(async (o: { config?: string; clockUrl?: string }) => {
      try {
        await runGateway(o.config, { clockUrl: o.clockUrl });
      } catch (e) {
        fail(e);
      }
    });

  dirOpts(gw.command('keys').description('print the public keys (CA, solver, gateway); creates them if absent')).action((o: DirOpts) => {
    try {
      const k = loadOrCreateKeys(dataDir(o));
      print({
        caPublicKey: toHex(k.caPublicKey),
        caKeyId: toHex(keyId(k.caPublicKey)),
        solverPublicKey: toHex(k.solverPublicKey),
        solverKeyId: toHex(k.solverKeyId),
        gatewayPublicKey: toHex(k.gateway.publicKey),
        solverKeyFile: k.solverKeyFile,
      });
    } catch (e) {
      fail(e);
    }
  });

  const venue = gw.command('venue').description('venue registry (keys are never listed)');
  dirOpts(venue.command('add'))
    .requiredOption('--name <name>', 'venue name')
    .requiredOption('--region <path>', 'region path, 1 to 4 segments: state[/county[/city[/venue]]]')
    .requiredOption('--lat <deg>', 'latitude')
    .requiredOption('--lon <deg>', 'longitude')
    .option('--radius <m>', 'radius in metres', '50')
    .option('--id <hex>', '6-byte venue id (random when absent)')
    .option('--key-out <file>', 'write the venue key (hex, 0600) here instead of printing it')
    .option('--key-file <file>', 'register this venue key (64 hex digits, e.g. from beepkit beacon provision) instead of a random one')
    .action((o: DirOpts & { name: string; region: string; lat: string; lon: string; radius: string; id?: string; keyOut?: string; keyFile?: string }) => {
      try {
        const reg = new VenueRegistry(join(dataDir(o), 'venues.json'));
        const { venue: v, key } = reg.add({
          id: o.id,
          name: o.name,
          region: o.region.split('/'),
          lat: num(o.lat, '--lat'),
          lon: num(o.lon, '--lon'),
          radiusM: num(o.radius, '--radius'),
          key: o.keyFile ? venueKeyFile(o.keyFile) : undefined,
        });
        if (o.keyOut) writeFileAtomicSync(o.keyOut, toHex(key) + '\n', 0o600);
        print(o.keyFile ? { venue: v, keyFile: o.keyFile } : o.keyOut ? { venue: v, keyFile: o.keyOut } : { venue: v, key: toHex(key) });
      } catch (e) {
        fail(e);
      }
    });
  dirOpts(venue.command('list')).action((o: DirOpts) => {
    try {
      print(new VenueRegistry(join(dataDir(o), 'venues.json')).load().list());
    } catch (e) {
      fail(e);
    }
  });
  dirOpts(venue.command('revoke').argument('<id>', 'venue id (hex)')).action((id: string, o: DirOpts) => {
    try {
      print(new VenueRegistry(join(dataDir(o), 'venues.json')).revoke(id));
    } catch (e) {
      fail(e);
    }
  });

  registerDevice(gw);

  const diag = gw.command('diagnostician').description('diagnostician certificates');
  dirOpts(diag.command('add').argument('<name>', 'diagnostician name ([A-Za-z0-9_.-])'))
    .option('--days <n>', 'validity in days', '365')
    .option('--out <file>', 'the beepkit-diagnostician-key file (0600; default <dataDir>/diagnosticians/<name>.json): `beepkit diagnose … --key <file>`')
    .action((name: string, o: DirOpts & { days: string; out?: string }) => {
      try {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new BeepkitError('E_CONFIG', 'name must match [A-Za-z0-9_.-]{1,64}');
        const dir = dataDir(o);
        const k = loadOrCreateKeys(dir);
        const seed = new Uint8Array(randomBytes(32));
        const subject = new Ed25519Signer(seed).publicKey;
        const nowS = Math.floor(hostNow() / 1000);
        const cert = issueCertificate(k.ca, {
          role: 'diagnostician',
          serial: Number(BigInt('0x' + toHex(randomBytes(6)))),
          day: Math.floor(nowS / 86_400),
          // backdated: a diagnostician's laptop whose clock runs a little behind the gateway's can use the key at once
          notBefore: nowS - ISSUE_BACKDATE_S,
          notAfter: nowS + Math.round(num(o.days, '--days') * 86_400),
          subject,
          solverKeyId: k.solverKeyId,
          region: `diagnostician/${name}`,
        });
        const out = o.out ?? join(dir, 'diagnosticians', `${name}.json`);
        writeFileAtomicSync(
          out,
          JSON.stringify(
            {
              type: 'beepkit-diagnostician-key',
              version: 1,
              role: 'diagnostician',
              name,
              seed: toHex(seed),
              publicKey: toHex(subject),
              certificate: toHex(cert.bytes),
              caPublicKey: toHex(k.caPublicKey),
            },
            null,
            1,
          ) + '\n',
          0o600,
        );
        print({ name, publicKey: toHex(subject), serial: cert.serial, notAfter: cert.notAfter, keyFile: out });
      } catch (e) {
        fail(e);
      }
    });
}

interface PwOpts {
  config?: string;
  passwordFile?: string;
}
/** The embedded broker's password file: --password-file, else the config's broker.embedded.passwordFile. */
function passwordFileOf(o: PwOpts): string {
  const f = o.passwordFile ?? loadConfig(o.config).broker.embedded.passwordFile;
  if (f === undefined) throw new BeepkitError('E_CONFIG', 'no password file: pass --password-file or set broker.embedded.passwordFile in the config');
  return f;
}

/** `beepkit gateway device add|list|revoke`: device credentials for the embedded broker (devices.ts). */
function registerDevice(gw: Command): void {
  const dev = gw
    .command('device')
    .description("device credentials in the embedded broker's password file (hashes are never listed; the running gateway reloads the file)");
  const pwOpts = (c: Command): Command =>
    c
      .option('-c, --config <file>', 'gateway.yaml (for broker.embedded.passwordFile)')
      .option('--password-file <file>', 'the password file (default: broker.embedded.passwordFile)');
  pwOpts(dev.command('add').argument('<id>', 'device topic id = MQTT username ([a-z0-9-]{8,64})'))
    .option('--out <file>', 'write the beepkit-device-credentials JSON here (0600) instead of printing it')
    .option('--password-out <file>', "also write the bare password (0600): the agent's broker.passwordFile")
    .action((id: string, o: PwOpts & { out?: string; passwordOut?: string }) => {
      try {
        const file = passwordFileOf(o);
        const creds = addDevice(file, id);
        if (o.passwordOut) writeFileAtomicSync(o.passwordOut, creds.password + '\n', 0o600);
        if (o.out) writeFileAtomicSync(o.out, JSON.stringify(creds, null, 1) + '\n', 0o600);
        print(o.out ? { id, passwordFile: file, credentialsFile: o.out } : creds);
      } catch (e) {
        fail(e);
      }
    });
  pwOpts(dev.command('list')).action((o: PwOpts) => {
    try {
      print(listDevices(passwordFileOf(o)));
    } catch (e) {
      fail(e);
    }
  });
  pwOpts(dev.command('revoke').argument('<id>', 'device topic id')).action((id: string, o: PwOpts) => {
    try {
      const file = passwordFileOf(o);
      revokeDevice(file, id);
      print({ id, revoked: true, passwordFile: file });
    } catch (e) {
      fail(e);
    }
  });
}
