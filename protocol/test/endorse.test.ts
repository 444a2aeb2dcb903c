/** protocol/src/endorse: frozen vectors, seeded round-trip properties, fuzz (only BeepkitError escapes). */
import t from 'tap';
import fc from 'fast-check';
import { toHex } from '../src/bytes.ts';
import { sha256, taggedHash } from '../src/crypto/hash.ts';
import { Ed25519Signer } from '../src/crypto/ed25519.ts';
import { issueCertificate } from '../src/cert/index.ts';
import { dayKeysFromChain } from '../src/keys/schedule.ts';
import {
  buildConsent,
  decodeChallenge,
  decodeConsent,
  decodeEndorsement,
  decodeNotificationEntry,
  decodeVenueSignoff,
  encodeChallenge,
  encodeConsent,
  encodeEndorsement,
  encodeNotificationEntry,
  newChallenge,
  signEndorsement,
  signVenueSignoff,
  verifyConsent,
  verifyEndorsement,
  verifyVenueSignoff,
  type NotificationEntry,
} from '../src/endorse/index.ts';
import { codeOf, fuzz, mutate } from './fuzz-helpers.ts';

const tag = (s: string) => taggedHash('beepkit/test/endorse', new TextEncoder().encode(s));
const DAY = 20000;
const NOW = DAY * 86400 + 36000;
const caSeed = tag('ca');
const caPub = new Ed25519Signer(caSeed).publicKey;
const dSeed = tag('diag');
const dPub = new Ed25519Signer(dSeed).publicKey;
const cert = issueCertificate(caSeed, {
  role: 'diagnostician',
  serial: 1,
  day: DAY,
  notBefore: NOW - 86400,
  notAfter: NOW + 86400,
  subject: dPub,
  solverKeyId: new Uint8Array(8),
  region: 'x',
}).bytes;
const challenge = newChallenge(dPub, NOW, 900, new Uint8Array(16).fill(7));
const keys = [DAY - 2, DAY - 1, DAY].map((d) => dayKeysFromChain(tag('master'), d));
const consent = buildConsent(challenge, keys, { teks: true, visits: [{ venue: new Uint8Array(8).fill(9), entry: NOW - 7200, exit: NOW - 3600 }] });
const endorsement = signEndorsement({ certificate: cert, challenge, time: NOW + 60, level: 2, days: consent.days }, dSeed);
const entries: NotificationEntry[] = [
  { type: 'exposure', fingerprint: new Uint8Array(16).fill(0xab), risk: 2, day: DAY },
  { type: 'tek', tek: new Uint8Array(16).fill(1), rollingStart: DAY * 144, period: 144 },
  { type: 'venue-exposure', venue: new Uint8Array(8).fill(2), start: NOW, end: NOW + 3600 },
  { type: 'venue-state', venue: new Uint8Array(8).fill(3), state: 'clean', since: NOW, reason: 'signoff' },
];
const signoff = signVenueSignoff(new Uint8Array(8).fill(3), NOW, tag('venue'));

t.test('frozen vectors', async (t) => {
  t.equal(
    toHex(encodeChallenge(challenge)),
    '0101' + '07'.repeat(16) + toHex(dPub) + NOW.toString(16).padStart(8, '0') + (NOW + 900).toString(16).padStart(8, '0'),
  );
  t.same(
    entries.map((e) => toHex(encodeNotificationEntry(e))),
    [
      'b101' + 'ab'.repeat(16) + '02' + '00004e20',
      'b102' + '01'.repeat(16) + '002bf200' + '0090',
      'b103' + '02'.repeat(8) + NOW.toString(16).padStart(8, '0') + (NOW + 3600).toString(16).padStart(8, '0'),
      'b104' + '03'.repeat(8) + '02' + NOW.toString(16).padStart(8, '0') + '03',
    ],
  );
  // Ed25519 is deterministic: the whole consent and endorsement are reproducible
  t.equal(
    toHex(sha256(encodeConsent(consent))).slice(0, 16),
    toHex(sha256(encodeConsent(buildConsent(challenge, keys, { teks: true, visits: consent.visits })))).slice(0, 16),
  );
  t.equal(encodeConsent(consent).length, 2 + 58 + 1 + 3 * 100 + 1 + 2 * 22 + 2 + 16, 'consent layout length');
  t.equal(consent.teks.length, 2, 'only past days share TEKs');
  t.equal(endorsement[0], 0xe1);
  t.equal(signoff.length, 78);
});

t.test('verification', async (t) => {
  t.doesNotThrow(() => verifyConsent(consent, { now: NOW + 10, diagnostician: dPub }));
  t.equal(
    codeOf(() => verifyConsent(consent, { now: NOW + 901 })),
    'E_EXPIRED',
  );
  t.equal(
    codeOf(() => verifyConsent(consent, { now: NOW, diagnostician: caPub })),
    'E_KEY',
  );
  t.equal(
    codeOf(() => verifyConsent({ ...consent, days: [{ ...consent.days[0], day: consent.days[0].day - 1 }, ...consent.days.slice(1)] }, { now: NOW })),
    'E_SIGNATURE',
  );
  t.equal(
    codeOf(() => verifyConsent({ ...consent, teks: [{ tek: new Uint8Array(16), rollingStart: DAY * 144, period: 144 }] }, { now: NOW })),
    'E_RANGE',
    "today's TEK refused",
  );
  t.equal(verifyEndorsement(endorsement, { caPub }).certificate.role, 'diagnostician');
  t.equal(
    codeOf(() => verifyEndorsement(endorsement, { caPub: dPub })),
    'E_CERT',
  );
  const tampered = endorsement.slice();
  tampered[tampered.length - 100] ^= 1;
  t.ok(['E_SIGNATURE', 'E_FORMAT', 'E_RANGE'].includes(codeOf(() => verifyEndorsement(tampered, { caPub }))), 'tampered endorsement rejected');
  t.equal(
    codeOf(() => verifyEndorsement(signEndorsement({ certificate: cert, challenge, time: NOW + 1000, level: 0, days: consent.days }, dSeed), { caPub })),
    'E_EXPIRED',
    'stale challenge',
  );
  t.equal(
    codeOf(() => verifyEndorsement(signEndorsement({ certificate: cert, challenge, time: NOW + 60, level: 0, days: consent.days }, tag('other')), { caPub })),
    'E_SIGNATURE',
    'signed by another key',
  );
  t.same(verifyVenueSignoff(signoff, new Ed25519Signer(tag('venue')).publicKey).time, NOW);
  t.equal(
    codeOf(() => verifyVenueSignoff(signoff, dPub)),
    'E_SIGNATURE',
  );
});

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const entryArb: fc.Arbitrary<NotificationEntry> = fc.oneof(
  fc.record({ type: fc.constant('exposure' as const), fingerprint: bytes(16), risk: fc.constantFrom(1 as const, 2 as const), day: u32 }),
  fc.record({ type: fc.constant('tek' as const), tek: bytes(16), rollingStart: u32, period: fc.integer({ min: 1, max: 144 }) }),
  fc.tuple(bytes(8), u32, u32).map(([venue, a, b]) => ({ type: 'venue-exposure' as const, venue, start: Math.min(a, b), end: Math.max(a, b) })),
  fc.record({
    type: fc.constant('venue-state' as const),
    venue: bytes(8),
    state: fc.constantFrom('empty' as const, 'infected' as const, 'clean' as const),
    since: u32,
    reason: fc.constantFrom('visit' as const, 'report' as const, 'expiry' as const, 'signoff' as const),
  }),
);

t.test('round-trip properties (seeded)', async (t) => {
  fc.assert(
    fc.property(entryArb, (e) => t.same(decodeNotificationEntry(encodeNotificationEntry(e)), e) && true),
    { seed: 71, numRuns: 500 },
  );
  const chArb = fc
    .tuple(bytes(16), bytes(32), u32, fc.integer({ min: 0, max: 100000 }))
    .map(([nonce, d, at, ttl]) => ({ nonce, diagnostician: d, issuedAt: Math.min(at, 0xffffffff - ttl), expiresAt: Math.min(at, 0xffffffff - ttl) + ttl }));
  fc.assert(
    fc.property(chArb, (c) => t.same(decodeChallenge(encodeChallenge(c)), c) && true),
    { seed: 72, numRuns: 300 },
  );
  const consentArb = fc.record({
    challenge: chArb,
    days: fc
      .uniqueArray(u32, { minLength: 1, maxLength: 14 })
      .map((ds) => ds.sort((a, b) => a - b).map((day) => ({ day, pseudonym: new Uint8Array(32).fill(day & 0xff), proof: new Uint8Array(64).fill(1) }))),
    teks: fc.array(fc.record({ tek: bytes(16), rollingStart: u32, period: fc.integer({ min: 1, max: 144 }) }), { maxLength: 14 }),
    visits: fc.array(
      fc.tuple(bytes(8), u32, u32).map(([venue, a, b]) => ({ venue, entry: Math.min(a, b), exit: Math.max(a, b) })),
      { maxLength: 5 },
    ),
  });
  fc.assert(
    fc.property(consentArb, (c) => t.same(decodeConsent(encodeConsent(c)), c) && true),
    { seed: 73, numRuns: 200 },
  );
  const e = decodeEndorsement(endorsement);
  t.same(encodeEndorsement(e), endorsement, 'endorsement re-encodes to the same bytes');
});

t.test('fuzz: 100k+ inputs, only BeepkitError escapes', async (t) => {
  const decoders: [string, (b: Uint8Array) => unknown, Uint8Array[]][] = [
    ['challenge', decodeChallenge, [encodeChallenge(challenge)]],
    ['consent', decodeConsent, [encodeConsent(consent)]],
    ['endorsement', (b) => verifyEndorsement(b, { caPub }), [endorsement]],
    ['entry', decodeNotificationEntry, entries.map(encodeNotificationEntry)],
    ['signoff', decodeVenueSignoff, [signoff]],
  ];
  const per = { challenge: 25000, consent: 20000, endorsement: 10000, entry: 40000, signoff: 10000 } as Record<string, number>;
  let total = 0;
  for (const [name, dec, corpus] of decoders) {
    const maxLen = Math.max(...corpus.map((c) => c.length));
    const r = fuzz(
      per[name],
      name.length * 1000 + 5,
      (rand) => mutate(rand, corpus, maxLen),
      (b) => void dec(b),
    );
    t.notOk(r.foreign, `${name}: no foreign error ${r.foreign ? String(r.foreign.error) : ''}`);
    t.ok(Object.keys(r.codes).length > 0, `${name}: typed rejections ${JSON.stringify(r.codes)}`);
    total += per[name];
  }
  t.ok(total >= 100000, `${total} inputs`);
});
