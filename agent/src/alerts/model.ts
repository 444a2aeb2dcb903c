/**
 * Alerts from self-matching results: a risk level, the UTC day, the kind of
 * match and an explanation a person understands (how long, how near), plus the
 * Song et al. infection probability when β is configured. An Alert carries no
 * prefix, fingerprint, TEK, RPI, venue id or position: it is safe to log and
 * to hand to hooks.
 */
import { dayRisks, CWA_DEFAULTS, type CwaConfig, type RiskLevel } from '../risk/index.ts';
import { infectionProbability, type Beta, type Material } from '@beepkit/protocol/risk';
import type { BluetoothExposure, FingerprintMatch, VenueExposure } from '../matching/index.ts';
import { distanceMeters, DEFAULT_PATH_LOSS, type PathLossModel } from '@beepkit/device-core/rssi';

export type AlertKind = 'fingerprint' | 'bluetooth' | 'venue';

export interface Alert {
  kind: AlertKind;
  level: RiskLevel;
  /** UTC day number. */
  day: number;
  /** ISO date of the day (YYYY-MM-DD). */
  date: string;
  /** Exposure minutes (Bluetooth: below the drop threshold; venue: overlap). */
  minutes?: number;
  /** Weighted minutes (Bluetooth). */
  weightedMinutes?: number;
  /** Rough distance of the nearest approach, metres (Bluetooth). */
  distanceM?: number;
  /** Song et al. infection probability, when β is configured. */
  probability?: number;
  explanation: string;
}

export interface AlertOptions {
  cwa?: CwaConfig;
  pathLoss?: PathLossModel;
  /** Song et al. coefficients; no probability without them. */
  beta?: Beta;
  material?: Material;
  /** Transmit power assumed when turning attenuation back into RSSI (dBm). */
  txPowerDbm?: number;
  /** RSSI used for venue exposures (no radio contact measured). */
  venueRssiDbm?: number;
}

const DAY_MS = 86_400_000;

/** en-GB's abbreviated months (CLDR, as ICU 72+ prints them: "Sept"). */
const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];

/**
 * "3 Dec": the UTC day's date in British English. Formatted by hand, not with `toLocaleDateString`: the
 * same words on every Node build (small-ICU or system-ICU builds differ), and an alerting agent does not
 * map ICU's locale data and collation code (~4 MB of the node binary's pages).
 */
export function dayLabel(day: number): string {
  const d = new Date(day * DAY_MS);
  return `${d.getUTCDate()} ${MONTHS_SHORT[d.getUTCMonth()]}`;
}

function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function withProbability(a: Alert, p: number | undefined): Alert {
  if (p === undefined) return a;
  return { ...a, probability: p, explanation: `${a.explanation} Estimated probability of infection: ${Math.round(p * 100)}%.` };
}

const advice = (level: RiskLevel): string =>
  level === 'high' ? 'This is a high-risk exposure: please follow your local health guidance.' : 'This is a low-risk exposure.';

export function fingerprintAlerts(matches: FingerprintMatch[]): Alert[] {
  return matches.map((m) => ({
    kind: 'fingerprint',
    level: m.level,
    day: m.day,
    date: isoDate(m.day),
    explanation: `On ${dayLabel(m.day)} you were at a place at about the same time as someone who later tested positive (matched by the tracing solver). ${advice(m.level)}`,
  }));
}

export function bluetoothAlerts(exposures: BluetoothExposure[], opts: AlertOptions = {}): Alert[] {
  const out: Alert[] = [];
  for (const d of dayRisks(
    exposures.flatMap((e) => e.windows),
    opts.cwa ?? CWA_DEFAULTS,
  )) {
    if (!d.level) continue;
    const minutes = Math.round(d.minutes);
    const distanceM = Math.max(1, Math.round(distanceMeters(d.minAttenuation, opts.pathLoss ?? DEFAULT_PATH_LOSS)));
    const a: Alert = {
      kind: 'bluetooth',
      level: d.level,
      day: d.day,
      date: isoDate(d.day),
      minutes,
      weightedMinutes: Math.round(d.weightedMinutes * 10) / 10,
      distanceM,
      explanation: `On ${dayLabel(d.day)} you spent about ${minutes} minutes within roughly ${distanceM} m of someone who later tested positive. ${advice(d.level)}`,
    };
    const p =
      opts.beta &&
      infectionProbability(
        { rssi: (opts.txPowerDbm ?? 0) - d.minAttenuation, contactMinutes: d.minutes, checkInGapMinutes: 0, material: opts.material ?? 'aerosol' },
        opts.beta,
      );
    out.push(withProbability(a, p));
  }
  return out;
}

export function venueAlerts(exposures: VenueExposure[], opts: AlertOptions = {}): Alert[] {
  return exposures.map((e) => {
    const minutes = Math.max(1, Math.round(e.overlapMs / 60_000));
    const a: Alert = {
      kind: 'venue',
      level: e.level,
      day: e.day,
      date: isoDate(e.day),
      minutes,
      explanation: `On ${dayLabel(e.day)} you visited a venue while someone who later tested positive was there (or shortly after), for about ${minutes} minutes. ${advice(e.level)}`,
    };
    const p =
      opts.beta &&
      infectionProbability(
        { rssi: opts.venueRssiDbm ?? -90, contactMinutes: 0, checkInGapMinutes: e.checkInGapMs / 60_000, material: opts.material ?? 'other' },
        opts.beta,
      );
    return withProbability(a, p);
  });
}
