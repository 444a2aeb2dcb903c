/**
 * A patient who consented is not alerted about exposures her own endorsement
 * caused (her venue visit, her pseudonym-days, her TEKs), yet is still alerted
 * by someone else's; what she shared is recorded durably and sealed.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { toHex } from '@beepkit/protocol/bytes';
import { encodeNotificationEntry, newChallenge, type Consent } from '@beepkit/protocol/endorse';
import { fingerprint } from '@beepkit/protocol/tracecode';
import type { Alert } from '../src/alerts/index.ts';
import { SelfMatcher, sharedFromConsent, type SharedRecord } from '../src/follow/index.ts';
import { loadShared, recordShared } from '../src/app/storage.ts';

const DAY_MS = 86_400_000;
const day = 20_413;
const T = day * DAY_MS + 10 * 3_600_000; // 10:00 UTC
const h = (s: string, n = 32): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest()).subarray(0, n);
const prefix = h('alice-pseudonym');
const venue = h('cafe', 6);
const venue8 = Uint8Array.from([...venue, 0, 0]);
const tek = h('alice-tek', 16);
const myVisit = { venueId: toHex(venue), entry: T, exit: T + 30 * 60_000 };

const consent = (): Consent => ({
  challenge: newChallenge(h('diagnostician'), T / 1000 + 7200),
  days: [{ day, pseudonym: prefix, proof: new Uint8Array(64) }],
  teks: [{ tek, rollingStart: day * 144, period: 144 }],
  visits: [{ venue: venue8, entry: myVisit.entry / 1000, exit: myVisit.exit / 1000 }],
});

const entries = {
  myVenue: encodeNotificationEntry({ type: 'venue-exposure', venue: venue8, start: myVisit.entry / 1000, end: myVisit.exit / 1000 + 2 * 3600 }),
  otherVenue: encodeNotificationEntry({ type: 'venue-exposure', venue: venue8, start: myVisit.entry / 1000 + 600, end: myVisit.exit / 1000 }),
  myFingerprint: encodeNotificationEntry({ type: 'exposure', fingerprint: fingerprint(prefix), risk: 2, day }),
  myTek: encodeNotificationEntry({ type: 'tek', tek, rollingStart: day * 144, period: 144 }),
};

function matcher(shared?: SharedRecord): { m: SelfMatcher; got: Alert[] } {
  const got: Alert[] = [];
  const m = new SelfMatcher({
    dispatcher: { dispatch: async (a) => got.push(...a) },
    now: () => T + 2 * 3_600_000,
    ownPrefixes: () => [{ day, prefix }],
    ownVisits: () => [myVisit],
    // she heard her own advertiser: her RPIs are in her encounter log
    encounters: () => [],
    venueIdOf: (v) => toHex(v.subarray(0, 6)),
    ...(shared ? { shared: async () => shared } : {}),
  });
  return { m, got };
}
const block = (...e: Uint8Array[]) => ({ height: 1, timeMs: T, entries: e });

t.test('without the record the patient is alerted about herself (the fault)', async (t) => {
  const { m, got } = matcher();
  await m.onBlock(block(entries.myVenue, entries.myFingerprint));
  t.same(got.map((a) => [a.kind, a.level]).sort(), [
    ['fingerprint', 'high'],
    ['venue', 'high'],
  ]);
});

t.test('after consent: no alert from her own endorsement, still alerted by others', async (t) => {
  const shared = sharedFromConsent(consent(), (v) => toHex(v.subarray(0, 6)));
  t.same(shared.visits, [{ venueId: toHex(venue), entry: T / 1000, exit: T / 1000 + 1800 }]);
  const { m, got } = matcher(shared);
  t.same(await m.onBlock(block(entries.myVenue, entries.myFingerprint, entries.myTek)), [], 'her visit, her pseudonym-day and her TEK: no alert');
  t.equal(m.counters.selfDropped, 3);
  t.equal(got.length, 0);
  const other = await m.onBlock(block(entries.otherVenue));
  t.same(
    other.map((a) => [a.kind, a.level]),
    [['venue', 'high']],
    'another patient at the café 10 min after her still alerts',
  );
});

t.test('the record is durable, sealed at rest and accumulates consents', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'shared.bin');
  const key = h('storage-key');
  t.same(await loadShared(path, key), { prefixes: [], teks: [], visits: [] }, 'nothing shared yet');
  const first = sharedFromConsent(consent(), (v) => toHex(v.subarray(0, 6)));
  await recordShared(path, first, key);
  await recordShared(path, first, key);
  const second: SharedRecord = { prefixes: [{ day: day + 1, prefix: toHex(h('next-day')) }], teks: [], visits: [] };
  const all = await recordShared(path, second, key);
  t.same(await loadShared(path, key), all, 'reads back what was written');
  t.same(
    all.prefixes.map((p) => p.day),
    [day, day + 1],
    'union, no duplicates',
  );
  t.notOk(readFileSync(path).toString('latin1').includes(toHex(prefix)), 'no pseudonym in clear on disk');
  await t.rejects(loadShared(path, h('wrong-key')), 'another key cannot open it');
});
