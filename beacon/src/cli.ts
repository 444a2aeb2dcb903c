/** `beepkit beacon provision|run`. Errors: one JSON line {code, message} on stderr, exit code 2. */
import { join } from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';
import { BtsnoopWriter, HciRadio, hciTarget } from '@beepkit/device-core/radio';
import { checkVenueInfo, loadVenueKey, offlineRecord, provisionVenue, type VenueSecret } from './provision.ts';
import { BeaconDaemon } from './daemon.ts';
import { startHealth } from './health.ts';
import { registerOverMqtt } from './register.ts';
import { hostNow } from '@beepkit/protocol/clock';

const fail = (e: unknown): void => {
  const err = isBeepkitError(e) ? e : new BeepkitError('E_IO', String((e as Error)?.message ?? e));
  process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
  process.exitCode = 2;
};
const num = (v: string, what: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new BeepkitError('E_CONFIG', `${what} must be a number`);
  return n;
};
const secretOf = (o: { keyFile?: string; passphraseEnv?: string }, dataDir: string): VenueSecret =>
  o.passphraseEnv ? { passphrase: process.env[o.passphraseEnv] ?? '' } : { keyFile: o.keyFile ?? join(dataDir, 'beacon.kek') };

export function register(program: Command): void {
  const beacon = program.command('beacon').description('venue beacon: provision a venue key, advertise rotating venue frames');
  beacon
    .command('provision')
    .requiredOption('--venue <name>', 'venue name')
    .requiredOption('--region <path>', 'state/county/city')
    .requiredOption('--lat <deg>', 'latitude')
    .requiredOption('--lon <deg>', 'longitude')
    .requiredOption('--radius <m>', 'radius (m)')
    .option('--data-dir <dir>', 'data directory', '/var/lib/beepkit-beacon')
    .option('--key-file <file>', 'KEK file (32 bytes, 0600; created when absent)')
    .option('--passphrase-env <VAR>', 'seal with a passphrase from this env var')
    .option('--gateway <url>', 'register with the gateway CA over MQTT (mqtt:// or mqtts://) instead of printing the offline record')
    .option('--device-id <id>', "this beacon's device topic id, listed in the gateway's ca.trustedBeacons (with --gateway)")
    .option('--password-file <file>', 'MQTT password of the device id (with --gateway)')
    .action(
      async (o: {
        venue: string;
        region: string;
        lat: string;
        lon: string;
        radius: string;
        dataDir: string;
        keyFile?: string;
        passphraseEnv?: string;
        gateway?: string;
        deviceId?: string;
        passwordFile?: string;
      }) => {
        try {
          const info = { name: o.venue, region: o.region.split('/'), lat: num(o.lat, '--lat'), lon: num(o.lon, '--lon'), radiusM: num(o.radius, '--radius') };
          checkVenueInfo(info);
          if (o.gateway && !o.deviceId) throw new BeepkitError('E_CONFIG', "--gateway needs --device-id (an id listed in the gateway's ca.trustedBeacons)");
          await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
          const secret = secretOf(o, o.dataDir);
          if (
            'keyFile' in secret &&
            !(await readFile(secret.keyFile).then(
              () => true,
              () => false,
            ))
          ) {
            const { randomBytes } = await import('node:crypto');
            await writeFileAtomic(secret.keyFile, new Uint8Array(randomBytes(32)));
          }
          const keyPath = join(o.dataDir, 'venue.key');
          // with --gateway, a beacon provisioned earlier (e.g. the gateway was unreachable) registers its existing key
          const again =
            !!o.gateway &&
            (await readFile(keyPath).then(
              () => true,
              () => false,
            ));
          const v = again ? await loadVenueKey(keyPath, secret) : await provisionVenue(keyPath, secret);
          if (o.gateway) {
            const password = o.passwordFile ? (await readFile(o.passwordFile, 'utf8')).trim() : undefined;
            const r = await registerOverMqtt(v, info, { url: o.gateway, deviceId: o.deviceId!, password });
            process.stdout.write(JSON.stringify({ registered: true, venueId: r.venueId, state: r.state, gateway: o.gateway }, null, 2) + '\n');
            return;
          }
          const hexFile = join(o.dataDir, 'venue-key.hex');
          await writeFileAtomic(hexFile, new TextEncoder().encode(toHex(v.key) + '\n'));
          const rec = offlineRecord(v, info, hexFile);
          process.stdout.write(
            JSON.stringify(
              { ...rec, keyFile: hexFile, note: 'register offline: copy the key file to the gateway host, run the command, then delete the copy' },
              null,
              2,
            ) + '\n',
          );
        } catch (e) {
          fail(e);
        }
      },
    );
  beacon
    .command('run')
    .option('-c, --config <file>', 'beacon.yaml', '/etc/beepkit/beacon.yaml')
    .option('--trust-clock', 'advertise even without NTP/RTC confirmation (never before the build date)')
    .option('--btsnoop <file>', "write the controller's HCI traffic to a btsnoop capture (Wireshark, btmon -r)")
    .action(async (o: { config: string; trustClock?: boolean; btsnoop?: string }) => {
      try {
        const cfg = (parse(await readFile(o.config, 'utf8')) ?? {}) as Record<string, any>;
        const dataDir: string = cfg.dataDir ?? '/var/lib/beepkit-beacon';
        const venue = await loadVenueKey(join(dataDir, 'venue.key'), secretOf(cfg, dataDir));
        const target = hciTarget(cfg.hci);
        const btsnoop = o.btsnoop ? new BtsnoopWriter(o.btsnoop, hostNow) : undefined;
        const iv = cfg.intervalMs === undefined ? undefined : num(String(cfg.intervalMs), 'intervalMs');
        const daemon = new BeaconDaemon({
          radio: new HciRadio({ advertiser: target, now: hostNow, ...(btsnoop ? { btsnoop } : {}) }),
          now: hostNow,
          venue,
          txPower: Number(cfg.txPower ?? -59),
          slotSeconds: cfg.slotSeconds,
          interop: cfg.interop,
          ...(iv !== undefined ? { intervalMs: { min: iv, max: iv } } : {}),
          trustClock: o.trustClock || cfg.trustClock === true,
        });
        await daemon.start();
        const h = await startHealth(() => ({ ...daemon.status, venueId: toHex(venue.venueId) }), Number(cfg.httpPort ?? 9110));
        process.stdout.write(JSON.stringify({ ready: true, venueId: toHex(venue.venueId), http: h.port }) + '\n');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await daemon.stop();
        await btsnoop?.close();
        await h.close();
        process.exit(0);
      } catch (e) {
        fail(e);
      }
    });
}
