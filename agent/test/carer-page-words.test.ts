/**
 * The carer page's plain language (agent/src/carer-page/words.ts): the alert sentence of each kind,
 * day names relative to today in the page's time zone, durations rounded as people say them, and
 * "last synced". Every instant is fixed and every time zone given: the same text at any host hour
 * and in any host time zone.
 */
import t from 'tap';
import { agoPhrase, alertSentence, dayPhrase, durationPhrase, localDay } from '../src/carer-page/words.ts';

const DAY_MS = 86_400_000;
// Thursday 3 December 2026, 14:00 UTC
const NOW = Date.UTC(2026, 11, 3, 14, 0, 0);
const TODAY = Math.floor(NOW / DAY_MS);
const TUESDAY = TODAY - 2; // 1 December 2026
const ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];

t.test('the sentence of the issue, word for word', async (t) => {
  const text = alertSentence(
    { person: 'Grace', kind: 'bluetooth', level: 'high', day: TUESDAY, minutes: 24, venue: 'the café' },
    { now: NOW, timeZone: 'Europe/Berlin' },
  );
  t.equal(
    text,
    'Grace was near someone who later tested positive, on Tuesday at the café, for about 25 minutes. This is a high risk: please follow your local health guidance.',
  );
});

t.test('each kind, with and without a venue or minutes', async (t) => {
  const o = { now: NOW, timeZone: 'UTC' };
  t.equal(
    alertSentence({ person: 'Rose', kind: 'fingerprint', level: 'high', day: TODAY }, o),
    'Rose was somewhere at about the same time as someone who later tested positive, today. This is a high risk: please follow your local health guidance.',
  );
  t.equal(
    alertSentence({ person: 'Rose', kind: 'venue', level: 'low', day: TODAY - 1, minutes: 61, venue: 'the library' }, o),
    'Rose was at the library while someone who later tested positive was there, yesterday, for about an hour. This is a low risk.',
  );
  t.equal(
    alertSentence({ person: 'Rose', kind: 'venue', level: 'low', day: TODAY - 9, minutes: 3 }, o),
    'Rose was at a place while someone who later tested positive was there, on Tuesday 24 November, for about 3 minutes. This is a low risk.',
  );
  t.equal(
    alertSentence({ person: 'Rose', kind: 'bluetooth', level: 'low', day: TODAY - 6, minutes: 0.4 }, o),
    'Rose was near someone who later tested positive, on Friday, briefly. This is a low risk.',
    'under ¾ of a minute: briefly',
  );
  t.notMatch(alertSentence({ person: 'Rose', kind: 'bluetooth', level: 'high', day: TODAY - 7, minutes: 10 }, o), /on Thursday\b[^ ]/);
  t.match(
    alertSentence({ person: 'Rose', kind: 'bluetooth', level: 'high', day: TODAY - 7, minutes: 10 }, o),
    /on Thursday 26 November, for about 10 minutes/,
    'a week ago: the date too',
  );
});

t.test('durations: briefly, a minute, to the minute under ten, to five minutes, to the half hour from an hour', async (t) => {
  const cases: [number, string][] = [
    [0, ''],
    [-3, ''],
    [Number.NaN, ''],
    [0.5, 'briefly'],
    [1, 'for about a minute'],
    [1.4, 'for about a minute'],
    [1.6, 'for about 2 minutes'],
    [9.4, 'for about 9 minutes'],
    [10, 'for about 10 minutes'],
    [12.4, 'for about 10 minutes'],
    [12.6, 'for about 15 minutes'],
    [24, 'for about 25 minutes'],
    [57, 'for about 55 minutes'],
    [58, 'for about an hour'],
    [74, 'for about an hour'],
    [76, 'for about an hour and a half'],
    [105, 'for about 2 hours'],
    [150, 'for about 2 and a half hours'],
  ];
  for (const [m, text] of cases) t.equal(durationPhrase(m), text, `${m} min`);
});

t.test('day names follow the page time zone, not the host: late evening UTC is already tomorrow in Tokyo', async (t) => {
  const late = Date.UTC(2026, 11, 3, 23, 30); // Thursday 23:30 UTC = Friday 08:30 in Tokyo, Thursday 18:30 in New York
  t.equal(localDay(late, 'UTC'), TODAY);
  t.equal(localDay(late, 'Asia/Tokyo'), TODAY + 1);
  t.equal(localDay(late, 'America/New_York'), TODAY);
  t.equal(dayPhrase(TODAY, { now: late, timeZone: 'UTC' }), 'today');
  t.equal(dayPhrase(TODAY, { now: late, timeZone: 'Asia/Tokyo' }), 'yesterday');
  t.equal(dayPhrase(TUESDAY, { now: late, timeZone: 'Asia/Tokyo' }), 'on Tuesday');
});

t.test('at every hour of the day, in every zone, an exposure two days back reads "on Tuesday" or, past local midnight, still a weekday', async (t) => {
  for (const tz of ZONES) {
    for (let h = 0; h < 24; h++) {
      const now = Date.UTC(2026, 11, 3, h, 17);
      const ago = localDay(now, tz) - TUESDAY;
      const text = alertSentence({ person: 'Grace', kind: 'bluetooth', level: 'high', day: TUESDAY, minutes: 25, venue: 'the café' }, { now, timeZone: tz });
      const when = ago === 1 ? 'yesterday' : 'on Tuesday';
      t.ok(text.startsWith(`Grace was near someone who later tested positive, ${when} at the café, for about 25 minutes.`), `${tz} ${h}:17 UTC: ${text}`);
    }
  }
});

t.test('last synced', async (t) => {
  const o = { now: NOW, timeZone: 'UTC' };
  t.equal(agoPhrase(undefined, o), 'never');
  t.equal(agoPhrase(NOW - 20_000, o), 'just now');
  t.equal(agoPhrase(NOW - 60_000, o), 'a minute ago');
  t.equal(agoPhrase(NOW - 25 * 60_000, o), '25 minutes ago');
  t.equal(agoPhrase(NOW - 60 * 60_000, o), 'an hour ago');
  t.equal(agoPhrase(NOW - 5 * 3_600_000, o), '5 hours ago');
  t.equal(agoPhrase(NOW - 15 * 3_600_000, o), 'yesterday', 'before midnight in the zone');
  t.equal(agoPhrase(NOW - 15 * 3_600_000, { now: NOW, timeZone: 'Asia/Tokyo' }), '15 hours ago', 'Tokyo: the same local day');
  t.equal(agoPhrase(NOW - 2 * DAY_MS, o), 'on Tuesday');
});

t.test('hand-made day names read as en-GB Intl prints them, and localDay as Intl counts it', async (t) => {
  // days before 1970 and across several years; the words are formatted without ICU (words.ts), Intl is the reference
  const weekdayOf = new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'UTC' });
  const dateOf = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
  let checked = 0;
  for (let day = -400; day < 30_000; day += 37) {
    const now = (day + 3) * DAY_MS + 3_600_000;
    t.equal(dayPhrase(day, { now, timeZone: 'UTC' }), `on ${weekdayOf.format(day * DAY_MS)}`);
    t.equal(dayPhrase(day, { now: now + 7 * DAY_MS, timeZone: 'UTC' }), `on ${dateOf.format(day * DAY_MS)}`);
    for (const zone of ZONES) {
      const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
      const get = (k: string) => Number(parts.find((p) => p.type === k)?.value);
      t.equal(localDay(now, zone), Math.floor(Date.UTC(get('year'), get('month') - 1, get('day')) / DAY_MS), zone);
    }
    checked++;
  }
  t.ok(checked > 800);
});
