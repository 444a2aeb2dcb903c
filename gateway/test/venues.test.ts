/** Venue state machine: check-in, residual windows per surface, expiry, venue sign-off, re-infection, regions, replay. */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { venueId8 } from '@beepkit/protocol/frames';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeNotificationEntry, signVenueSignoff } from '@beepkit/protocol/endorse';
import { SIGNOFF_SKEW_MS, VenueRegistry, residualHours } from '../src/venues/index.ts';
import { seed, venueIdOf } from './solver-helpers.ts';

t.test('empty → infected → clean (signoff / expiry) → infected again', async (t) => {
  let clock = 1_700_000_000_000;
  const published: Uint8Array[] = [];
  const reg = new VenueRegistry({ now: () => clock, sink: { publish: async (e) => void published.push(...e) } });
  const cafe = venueIdOf('cafe');
  const bar = venueIdOf('bar');
  const key = seed('cafe-key');
  reg.register(cafe, { region: 'scotland/edinburgh/edinburgh', surface: 'copper', signoffKey: new Ed25519Signer(key).publicKey });
  reg.register(bar, { region: 'scotland/glasgow/glasgow', surface: 'stainless-steel' });
  t.same(reg.venueState(cafe), { state: 'empty', sinceMs: 0 });
  t.same(
    [
      residualHours('aerosol'),
      residualHours('copper'),
      residualHours('cardboard'),
      residualHours('other'),
      residualHours('stainless-steel'),
      residualHours('plastic'),
    ],
    [3, 4, 24, 30, 48, 72],
  );

  const s = clock / 1000;
  const out = await reg.infectedVisit(cafe, s - 1800, s - 600, 'visit');
  t.same(
    out.map((e) => e.type),
    ['venue-exposure', 'venue-state'],
  );
  t.equal(out[0].type === 'venue-exposure' && out[0].end, s - 600 + 4 * 3600, 'copper extends the window by 4 h');
  t.equal(reg.venueState(cafe).state, 'infected');
  t.same(
    Object.fromEntries(reg.rollup(2)),
    { 'scotland/edinburgh': { empty: 0, infected: 1, clean: 0 }, 'scotland/glasgow': { empty: 1, infected: 0, clean: 0 } },
    'county roll-up',
  );
  t.same(Object.fromEntries(reg.rollup(1)), { scotland: { empty: 1, infected: 1, clean: 0 } }, 'state roll-up');

  await t.rejects(reg.signoff(signVenueSignoff(cafe, s + 60, seed('forger'))), { code: 'E_SIGNATURE' }, 'forged sign-off');
  await t.rejects(reg.signoff(signVenueSignoff(bar, s + 60, seed('x'))), { code: 'E_KEY' }, 'venue without sign-off key');
  clock += 3600_000;
  const clean = await reg.signoff(signVenueSignoff(cafe, clock / 1000, key));
  t.same(
    clean.map((e) => e.type === 'venue-state' && `${e.state}/${e.reason}`),
    ['clean/signoff'],
  );
  t.equal(reg.venueState(cafe).state, 'clean');

  clock += 86_400_000;
  await reg.infectedVisit(cafe, clock / 1000 - 600, clock / 1000, 'report');
  t.equal(reg.venueState(cafe).state, 'infected', 'infected again');
  clock += 13 * 86_400_000;
  t.same(await reg.tick(), [], 'still infected before 14 days');
  clock += 86_400_000;
  t.equal(reg.venueState(cafe).state, 'clean', 'query sees expiry lazily');
  const expired = await reg.tick();
  t.same(
    expired.map((e) => e.type === 'venue-state' && e.reason),
    ['expiry'],
  );
  const old = await reg.infectedVisit(bar, clock / 1000 - 20 * 86400, clock / 1000 - 20 * 86400 + 60, 'report');
  t.same(
    old.map((e) => e.type),
    ['venue-exposure'],
    'a visit older than 14 days does not infect',
  );

  const states = published.map(decodeNotificationEntry).filter((e) => e.type === 'venue-state');
  const replayed = new VenueRegistry({ now: () => clock });
  replayed.replay(states);
  t.same(replayed.venueState(cafe), reg.venueState(cafe), 'state rebuilt from the notification chain');
  t.same(
    reg.list('scotland/glasgow').map((v) => v.id),
    [toHex(bar)],
  );
});

t.test('a 6-byte frame venue id names the same venue as its 8-byte form (protocol venueId8)', async (t) => {
  const reg = new VenueRegistry({ now: () => 1_700_000_000_000 });
  reg.register('a1b2c3d4e5f6', { region: 'CA/Alameda/Oakland' });
  await reg.infectedVisit(venueId8('a1b2c3d4e5f6'), 1_699_990_000, 1_699_995_000);
  t.equal(reg.venueState(Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6)).state, 'infected');
  t.equal(reg.venueState('a1b2c3d4e5f60000').state, 'infected');
});

t.test('a sign-off from a venue clock a little behind the gateway cleans; an old one is a replay', async (t) => {
  const clock = 1_796_299_200_700; // the infection at 12:00:00.700 by the gateway's clock
  const reg = new VenueRegistry({ now: () => clock });
  const cafe = venueIdOf('cafe');
  const key = seed('cafe-signoff');
  reg.register(cafe, { region: 'scotland/edinburgh/edinburgh', surface: 'copper', signoffKey: new Ed25519Signer(key).publicKey });
  const s = Math.floor(clock / 1000);
  await reg.infectedVisit(cafe, s - 1800, s - 600, 'visit');
  t.equal(reg.venueState(cafe).state, 'infected');
  const notAfter = () => clock + SIGNOFF_SKEW_MS;
  await t.rejects(
    reg.signoff(signVenueSignoff(cafe, s - 3600, key), notAfter()),
    { code: 'E_REPLAY' },
    'a sign-off from an hour before the infection is a replay',
  );
  t.equal(reg.venueState(cafe).state, 'infected', 'and changes nothing');
  // the same second (sign-offs carry whole seconds), and a venue device 2 s behind the gateway
  const clean = await reg.signoff(signVenueSignoff(cafe, s - 2, key), notAfter());
  t.same(
    clean.map((e) => e.type === 'venue-state' && `${e.state}/${e.since}`),
    [`clean/${s}`],
    'cleans, from the infection time on (the chain stays in order)',
  );
  t.equal(reg.venueState(cafe).state, 'clean');
});
