/**
 * The system's time zone for the carer page, without ICU when the system keeps UTC.
 *
 * `new Intl.DateTimeFormat().resolvedOptions().timeZone` answers the question, but it loads ICU's locale, calendar
 * and zone data: ~8 MB more RSS in a fresh process, ~4-5 MB in a carer agent (agent/README.md "Memory"). A kit on
 * UTC (the TZ variable or /etc/localtime naming one of UTC's aliases) gets "UTC", the very name Intl gives them, and
 * the page's day arithmetic then never touches ICU (words.ts `localDay`). Any other zone, an empty TZ or a
 * missing /etc/localtime: Intl's answer, exactly as before.
 */
import { readlinkSync } from 'node:fs';

/** Every name ICU canonicalises to "UTC" (Node 20's ICU, checked in test/carer-time-zone.test.ts). */
export const UTC_ALIASES: ReadonlySet<string> = new Set([
  'UTC',
  'Etc/UTC',
  'UCT',
  'Etc/UCT',
  'Universal',
  'Etc/Universal',
  'Zulu',
  'Etc/Zulu',
  'GMT',
  'Etc/GMT',
  'GMT0',
  'Etc/GMT0',
  'Greenwich',
  'Etc/Greenwich',
]);

export interface SystemZoneSources {
  /** The TZ variable (undefined: unset). */
  tz?: string;
  /** The target of /etc/localtime (undefined: none, or not a link). */
  localtime?: () => string | undefined;
  /** What Intl says (the fallback). */
  intl?: () => string | undefined;
}

const readLocaltime = (): string | undefined => {
  try {
    return readlinkSync('/etc/localtime');
  } catch {
    return undefined;
  }
};

const intlZone = (): string | undefined => new Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The system's IANA time zone: "UTC" for UTC's aliases without asking ICU, else Intl's answer ("UTC" if none). */
export function systemTimeZone(o: SystemZoneSources = { tz: process.env.TZ }): string {
  const named = o.tz !== undefined ? o.tz.replace(/^:/, '') : /zoneinfo\/(.+)$/.exec((o.localtime ?? readLocaltime)() ?? '')?.[1];
  if (named !== undefined && UTC_ALIASES.has(named)) return 'UTC';
  return (o.intl ?? intlZone)() ?? 'UTC';
}
