/**
 * The carer page's plain language (agent/README.md "Carer page"): an alert as a
 * sentence a family member reads ("Grace was near someone who later tested
 * positive, on Tuesday at the café, for about 25 minutes"), and "last synced"
 * as a relative time. Pure functions of the alert, an injected now() and the
 * page's time zone: day names are relative to today in that zone ("today",
 * "yesterday", "on Tuesday" within the week, "on Tuesday 24 November" before),
 * durations rounded the way people say them.
 */
import type { AlertKind } from '../alerts/index.ts';

const DAY_MS = 86_400_000;

/** What the page words: a carer alert's fields (agent/src/carer/expose.ts CarerAlert), plus a venue name when one is known. */
export interface AlertFacts {
  person: string;
  kind: AlertKind;
  level: 'low' | 'high' | string;
  /** UTC day number of the exposure (a calendar date). */
  day: number;
  minutes?: number;
  /** The venue's name, when known ("the café"); never an id. */
  venue?: string;
}

export interface WordsOptions {
  /** Now, ms since epoch (injected). */
  now: number;
  /** IANA time zone of the people reading the page (config carer.page.timeZone). */
  timeZone: string;
}

/** The calendar day number (days since 1970-01-01) of instant `ms` in `timeZone`. */
export function localDay(ms: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return Math.floor(ms / DAY_MS);
  let f = dayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    if (dayFormats.size >= 8) dayFormats.clear();
    dayFormats.set(timeZone, f);
  }
  const parts = f.formatToParts(ms);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Math.floor(Date.UTC(get('year'), get('month') - 1, get('day')) / DAY_MS);
}

/** One formatter per time zone (a DateTimeFormat costs tens of µs and its ICU objects to build); a page uses one zone. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

// British English names, by hand: the same words on every Node build, and no ICU locale data for them
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
/** "Tuesday" for a UTC day number (1970-01-01, day 0, was a Thursday). */
const weekday = (day: number): string => WEEKDAYS[(((day + 4) % 7) + 7) % 7];
/** "Tuesday 24 November" for a UTC day number. */
const dateOf = (day: number): string => {
  const d = new Date(day * DAY_MS);
  return `${weekday(day)} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
};

/** "today", "yesterday", "on Tuesday" (2..6 days ago), else "on Tuesday 24 November". */
export function dayPhrase(day: number, o: WordsOptions): string {
  const ago = localDay(o.now, o.timeZone) - day;
  if (ago === 0) return 'today';
  if (ago === 1) return 'yesterday';
  if (ago > 1 && ago < 7) return `on ${weekday(day)}`;
  return `on ${dateOf(day)}`;
}

/** "for about 25 minutes": under ¾ minute "briefly", to the minute under ten, then to 5 minutes, from an hour to the half hour. */
export function durationPhrase(minutes: number): string {
  if (!(minutes > 0)) return '';
  if (minutes < 0.75) return 'briefly';
  if (minutes < 1.5) return 'for about a minute';
  if (minutes < 10) return `for about ${Math.round(minutes)} minutes`;
  if (minutes < 57.5) return `for about ${Math.round(minutes / 5) * 5} minutes`;
  const halves = Math.round(minutes / 30);
  const hours = Math.floor(halves / 2);
  const half = halves % 2 === 1;
  if (hours === 1) return half ? 'for about an hour and a half' : 'for about an hour';
  return `for about ${hours}${half ? ' and a half' : ''} hours`;
}

/** The alert as one sentence naming the person, then the advice of its level. */
export function alertSentence(a: AlertFacts, o: WordsOptions): string {
  const when = dayPhrase(a.day, o);
  const where = a.venue ? ` at ${a.venue}` : '';
  const long = a.minutes === undefined ? '' : durationPhrase(a.minutes);
  const tail = long ? `, ${long}` : '';
  let s: string;
  if (a.kind === 'bluetooth') s = `${a.person} was near someone who later tested positive, ${when}${where}${tail}.`;
  else if (a.kind === 'venue')
    s = `${a.person} was ${a.venue ? `at ${a.venue}` : 'at a place'} while someone who later tested positive was there, ${when}${tail}.`;
  else s = `${a.person} was ${a.venue ? `at ${a.venue}` : 'somewhere'} at about the same time as someone who later tested positive, ${when}${tail}.`;
  const advice = a.level === 'high' ? 'This is a high risk: please follow your local health guidance.' : 'This is a low risk.';
  return `${s} ${advice}`;
}

/** "never", "just now", "5 minutes ago", "3 hours ago", "yesterday", "on Tuesday", …: when a wearable last synced. */
export function agoPhrase(ms: number | undefined, o: WordsOptions): string {
  if (ms === undefined) return 'never';
  const min = Math.round((o.now - ms) / 60_000);
  if (min < 1) return 'just now';
  if (min === 1) return 'a minute ago';
  if (min < 60) return `${min} minutes ago`;
  const h = Math.round(min / 60);
  const day = localDay(ms, o.timeZone);
  if (day === localDay(o.now, o.timeZone)) return h === 1 ? 'an hour ago' : `${h} hours ago`;
  return dayPhrase(day, o);
}
