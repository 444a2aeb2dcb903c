/**
 * The radio check when no agent owns the controllers: each controller opens, resets and powers on
 * (noble/bleno over the same bindings as the agent), reports its version (HCI Read Local Version
 * Information), the advertiser transmits a probe advert (non-connectable, from a fresh non-resolvable
 * private address, a random nonce in manufacturer data 0xFFFF) and, with two controllers, the scanner
 * must hear that very advert; with one, the controller's accepted LE Set Advertising Enable is the proof.
 * The scan must see adverts, and adverts whose RSSI is 127 (HCI "not available", as BlueZ shows for
 * some controllers) are counted: a scanner that reports no RSSI at all fails (no proximity without it).
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { HciRadio, type ControllerVersion, type HciTarget } from '@beepkit/device-core/radio';
import { errorText, failed, pass, within, type Verdict } from './check.ts';

export interface RadioProbeOptions {
  scanner?: HciTarget;
  advertiser?: HciTarget;
  /** Config field names for hints (`radio.scanner`, `hci`). */
  fields: { scanner: string; advertiser: string };
  configPath: string;
  now: () => number;
  /** The whole check's budget, ms. */
  budgetMs: number;
}

const RSSI_NA = 127;
const describe = (t: HciTarget): string => ('uart' in t ? `UART ${t.uart}${t.baudRate ? ` @ ${t.baudRate} baud` : ''}` : `hci${t.hciIndex}`);
const version = (v: ControllerVersion): string =>
  `HCI ${v.hciVersion}.${v.hciRevision}, LMP ${v.lmpVersion}, manufacturer 0x${v.manufacturer.toString(16).padStart(4, '0')}, firmware 0x${v.lmpSubversion.toString(16).padStart(4, '0')}`;

/** A UART path that does not exist fails at once, naming the path and the field. */
function missingUart(o: RadioProbeOptions): Verdict | undefined {
  for (const role of ['scanner', 'advertiser'] as const) {
    const t = o[role];
    if (t && 'uart' in t && !existsSync(t.uart)) {
      return failed(
        `${role}: ${t.uart} does not exist`,
        `plug in the controller or correct ${o.fields[role]}.uart in ${o.configPath} (${t.uart}); list candidates with ls -l /dev/serial/by-id/ /dev/ttyACM* /dev/ttyUSB*`,
      );
    }
  }
  return undefined;
}

/** A probe advert: flags (LE only) and manufacturer data 0xFFFF "bkdr" + nonce; from a fresh non-resolvable private address. */
function probeAdvert(): { ad: Uint8Array; nonce: Buffer; address: string } {
  const nonce = randomBytes(6);
  const ad = Buffer.concat([Buffer.from([0x02, 0x01, 0x04, 0x0d, 0xff, 0xff, 0xff]), Buffer.from('bkdr'), nonce]);
  const a = randomBytes(6);
  a[0] &= 0x3f; // top two bits 00: non-resolvable private
  if (a.equals(Buffer.alloc(6)) || a.subarray(1).equals(Buffer.alloc(5, 0xff))) a[5] ^= 1;
  return { ad, nonce, address: [...a].map((b) => b.toString(16).padStart(2, '0')).join(':') };
}

export async function probeRadio(o: RadioProbeOptions): Promise<Verdict> {
  if (!o.scanner && !o.advertiser)
    return failed(
      'no controller configured',
      `set ${o.fields.scanner} and/or ${o.fields.advertiser} in ${o.configPath} ({ uart: /dev/ttyACM0 } or { hciIndex: 0 })`,
    );
  const missing = missingUart(o);
  if (missing) return missing;
  const t0 = performance.now();
  const left = (): number => o.budgetMs - (performance.now() - t0);
  const names = [o.scanner && `scanner ${describe(o.scanner)}`, o.advertiser && `advertiser ${describe(o.advertiser)}`].filter(Boolean).join(', ');
  const paths = [o.scanner, o.advertiser]
    .filter((t): t is HciTarget => !!t)
    .map(describe)
    .join(' and ');
  const radio = new HciRadio({
    ...(o.scanner ? { scanner: o.scanner } : {}),
    ...(o.advertiser ? { advertiser: o.advertiser } : {}),
    now: o.now,
    powerOnTimeoutMs: Math.round(Math.max(300, Math.min(5_000, left() - 1_500))),
  });
  const heard: { rssi: number; probe: boolean }[] = [];
  try {
    try {
      await radio.start();
    } catch (e) {
      return failed(
        `${names}: did not power on: ${errorText(e)}`,
        `check that ${paths} is an HCI controller (e.g. Zephyr hci_uart firmware; the baud rate in ${o.fields.scanner}.baudRate), that no other program (bluetoothd, a running agent) holds it, and the user's permissions (group dialout, or CAP_NET_ADMIN for hciN)`,
      );
    }
    const versions = await within(radio.controllerVersions(), Math.max(200, Math.min(3_000, left() - 1_500)), 'Read Local Version Information').catch(
      (e: unknown) => ({ error: errorText(e) }),
    );
    const parts: string[] = [];
    if ('error' in versions) parts.push(`version unknown (${versions.error})`);
    else
      for (const [role, v] of Object.entries(versions))
        parts.push(`${role} ${describe(o[role as 'scanner' | 'advertiser']!)}: ${version(v as ControllerVersion)}`);
    const probe = probeAdvert();
    if (o.advertiser) {
      try {
        await within(
          radio.advertise(probe.ad, undefined, { address: probe.address, intervalMs: { min: 100, max: 100 } }),
          Math.max(200, left() - 1_000),
          'advertising',
        );
      } catch (e) {
        return failed(
          `${parts.join('; ')}; the advertiser refused to advertise: ${errorText(e)}`,
          `the controller at ${describe(o.advertiser)} does not take standard LE advertising commands: flash HCI firmware that supports LE legacy advertising`,
        );
      }
    }
    if (!o.scanner) return pass(`${parts.join('; ')}; advertising on (the controller accepted LE Set Advertising Enable)`);
    const listenMs = Math.max(200, Math.min(o.advertiser ? 6_000 : 4_000, left() - 800));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, listenMs);
      radio.on('advert', (ev) => {
        const isProbe = Buffer.from(ev.data).includes(probe.nonce);
        heard.push({ rssi: ev.rssi, probe: isProbe });
        if ((o.advertiser && isProbe) || (!o.advertiser && heard.length >= 5)) {
          clearTimeout(timer);
          resolve();
        }
      });
      radio.startScan({ dutyCycle: 'continuous' }).catch((e: unknown) => {
        parts.push(`scan failed: ${errorText(e)}`);
        clearTimeout(timer);
        resolve();
      });
    });
    const probeHeard = heard.some((h) => h.probe);
    const na = heard.filter((h) => h.rssi === RSSI_NA).length;
    const rssis = heard.filter((h) => h.rssi !== RSSI_NA).map((h) => h.rssi);
    parts.push(
      `scan heard ${heard.length} advert${heard.length === 1 ? '' : 's'} in ${((performance.now() - t0) / 1000).toFixed(1)} s${rssis.length ? ` (RSSI ${Math.min(...rssis)}…${Math.max(...rssis)} dBm)` : ''}${na ? `, ${na} with RSSI not available (127)` : ''}`,
    );
    if (o.advertiser) parts.push(probeHeard ? "the scanner heard the advertiser's probe" : "the scanner did NOT hear the advertiser's probe");
    const detail = parts.join('; ');
    if (o.advertiser && !probeHeard) {
      return failed(
        detail,
        `the advertiser (${describe(o.advertiser)}) is not heard by the scanner (${describe(o.scanner)}) a few cm away: check both antennas, that the advertiser is not another kit's, and its TX power`,
      );
    }
    if (!heard.length)
      return failed(
        detail,
        `nothing heard: is ${describe(o.scanner)} really scanning? Test near a known advertiser (a phone with Exposure Notifications on, a venue beacon)`,
      );
    if (na === heard.length) {
      return failed(
        detail,
        `the scanner reports RSSI 127 ("not available", as BlueZ shows for some controllers) for every advert: proximity cannot be estimated. Use a controller whose firmware reports RSSI (Zephyr hci_uart does), or update its firmware`,
      );
    }
    return pass(detail);
  } finally {
    await within(radio.stop(), 2_000, 'radio stop').catch(() => {});
  }
}

/** The radio check from a running agent's /status (it owns the controllers). */
export function radioFromStatus(st: {
  scanner: string;
  advertiser: string;
  scanning: boolean;
  advertising: boolean;
  lastError?: string;
  counters: Record<string, number>;
}): Verdict {
  const detail = `from the running agent: scanner ${st.scanner}${st.scanning ? ' (scanning)' : ''}, advertiser ${st.advertiser}${st.advertising ? ' (advertising)' : ''}, ${st.counters.adverts ?? 0} adverts heard, ${st.counters.resets ?? 0} controller resets${st.lastError ? `, last error ${st.lastError}` : ''}`;
  const bad = (['scanner', 'advertiser'] as const).filter((r) => st[r] !== 'none' && st[r] !== 'poweredOn');
  if (st.scanner === 'none' && st.advertiser === 'none') return failed(detail, 'the agent has no controller configured (radio.scanner / radio.advertiser)');
  if (bad.length)
    return failed(detail, `${bad.join(' and ')} not powered on in the agent: see its log (journalctl -u beepkit-agent) for the controller's errors`);
  if (st.scanner !== 'none' && !(st.counters.adverts > 0))
    return failed(
      detail,
      "the agent's scanner has heard no advert yet: scanning runs 4 s every 4 min by default (radio.dutyCycle); run doctor again after a window, or near a known advertiser",
    );
  return pass(detail);
}
