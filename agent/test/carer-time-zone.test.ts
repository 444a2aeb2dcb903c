/**
 * The carer page's system time zone (src/carer-page/time-zone.ts): UTC's aliases answered without ICU, with the
 * name Intl gives them; every other case is Intl's answer.
 */
import t from 'tap';
import { UTC_ALIASES, systemTimeZone } from '../src/carer-page/time-zone.ts';

const noIntl = (): string => {
  throw new Error('Intl asked');
};

t.test("UTC's aliases: 'UTC' from TZ or /etc/localtime, Intl never asked; and Intl says the same", (t) => {
  const saved = process.env.TZ;
  t.teardown(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
  t.ok(UTC_ALIASES.size >= 14, `${UTC_ALIASES.size} aliases`);
  for (const z of UTC_ALIASES) {
    t.equal(systemTimeZone({ tz: z, intl: noIntl }), 'UTC', `TZ=${z}`);
    t.equal(systemTimeZone({ tz: `:${z}`, intl: noIntl }), 'UTC', `TZ=:${z}`);
    t.equal(systemTimeZone({ localtime: () => `/usr/share/zoneinfo/${z}`, intl: noIntl }), 'UTC', `/etc/localtime -> ${z}`);
    process.env.TZ = z; // Node resets its zone on assignment: what Intl would have answered on such a system
    t.equal(new Intl.DateTimeFormat().resolvedOptions().timeZone, 'UTC', `Intl names TZ=${z} "UTC"`);
  }
  t.end();
});

t.test('any other zone, an empty TZ or no /etc/localtime: Intl decides', (t) => {
  let asked = 0;
  const intl = (z: string | undefined) => () => (asked++, z);
  t.equal(systemTimeZone({ tz: 'Europe/London', intl: intl('Europe/London') }), 'Europe/London');
  t.equal(systemTimeZone({ tz: '', intl: intl('Etc/Unknown') }), 'Etc/Unknown');
  t.equal(systemTimeZone({ tz: 'UTC0', intl: intl(undefined) }), 'UTC', 'Intl without an answer: UTC');
  t.equal(systemTimeZone({ localtime: () => '/usr/share/zoneinfo/Europe/Paris', intl: intl('Europe/Paris') }), 'Europe/Paris');
  t.equal(systemTimeZone({ localtime: () => undefined, intl: intl('America/New_York') }), 'America/New_York');
  t.equal(systemTimeZone({ localtime: () => '../usr/share/zoneinfo/Etc/UTC', intl: noIntl }), 'UTC', 'a relative link');
  t.equal(asked, 5);
  t.end();
});
