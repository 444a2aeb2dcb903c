/** Forged or stale endorsements are rejected and nothing is published (diagnostician and solver side). */
import t from 'tap';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { buildConsent, newChallenge, signEndorsement, type Consent } from '@beepkit/protocol/endorse';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { Solver, ledgerTracingSource } from '../src/solver/index.ts';
import { Diagnostician, challengeFromJson, challengeToJson, consentFromJson, consentToJson } from '../src/diagnosis/index.ts';
import { DAY, T0, batchOf, cafeTracks, caPub, diagnosticianCert, keysOf, ledgerSigner, seed, solverKey } from './solver-helpers.ts';

t.test('diagnostician rejects forgeries before appending anything', async (t) => {
  let clock = (T0 + 3000) * 1000;
  const now = () => clock;
  const ledger = new EmbeddedLedger({ dir: t.testdir(), signer: ledgerSigner, now });
  await ledger.open();
  t.teardown(() => ledger.close());
  const published: Uint8Array[] = [];
  const sink = { publish: async (e: Uint8Array[]) => void published.push(...e) };
  const dSeed = seed('diagnostician');
  const mk = (certificate: Uint8Array, signingSeed = dSeed) => new Diagnostician({ signingSeed, certificate, caPub, ledger, sink, now });
  const alice = keysOf('alice', DAY - 1);
  const visits = [{ venue: new Uint8Array(8).fill(1), entry: T0 - 86400, exit: T0 - 86000 }];

  const asDevice = mk(diagnosticianCert(dSeed, dSeed, 'diagnostician'));
  await t.rejects(asDevice.endorse(buildConsent(asDevice.challenge(), [alice], { teks: true, visits })), { code: 'E_CERT' }, 'certificate from another CA');
  const roleDevice = mk(diagnosticianCert(dSeed, undefined, 'device'));
  await t.rejects(
    roleDevice.endorse(buildConsent(roleDevice.challenge(), [alice], { teks: true })),
    { code: 'E_CERT' },
    'certificate without role diagnostician',
  );
  const stolen = mk(diagnosticianCert(dSeed), seed('impostor'));
  await t.rejects(stolen.endorse(buildConsent(stolen.challenge(), [alice])), { code: 'E_CERT' }, "someone else's certificate");

  const diag = mk(diagnosticianCert(dSeed));
  const bad = buildConsent(diag.challenge(), [alice], { teks: true });
  const forged: Consent = { ...bad, days: [{ ...bad.days[0], proof: bad.days[0].proof.map((b, i) => (i === 0 ? b ^ 1 : b)) }] };
  await t.rejects(diag.endorse(forged), { code: 'E_SIGNATURE' }, 'pseudonym proof does not verify');
  const other = buildConsent(diag.challenge(), [keysOf('mallory', DAY - 1)]);
  await t.rejects(diag.endorse({ ...other, days: [{ ...other.days[0], pseudonym: alice.pseudonym }] }), { code: 'E_SIGNATURE' }, 'proof by another pseudonym');
  const stale = buildConsent(diag.challenge(), [alice]);
  clock += 3600_000;
  await t.rejects(diag.endorse(stale), { code: 'E_EXPIRED' }, 'stale challenge');
  const foreign = buildConsent(newChallenge(diag.signer.publicKey, Math.floor(clock / 1000)), [alice]);
  await t.rejects(diag.endorse(foreign), { code: 'E_REPLAY' }, 'challenge not issued here');
  const old = buildConsent(diag.challenge(), [keysOf('alice', DAY - 20)]);
  await t.rejects(diag.endorse(old), { code: 'E_RANGE' }, 'day outside the 14-day window');

  t.equal((await ledger.tail('tracing')) ?? null, null, 'nothing appended to the tracing chain');
  t.equal(published.length, 0, 'nothing published');

  const good = buildConsent(diag.challenge(), [alice], { teks: true, visits });
  const rt = consentFromJson(JSON.parse(JSON.stringify(consentToJson(good))));
  t.same(challengeFromJson(JSON.parse(JSON.stringify(challengeToJson(good.challenge)))), good.challenge, 'challenge JSON round trip');
  const res = await diag.endorse(rt);
  t.equal(res.teks, 1, 'past TEK endorsed');
  t.equal(published.length, 2, 'TEK and venue exposure on the notification chain');
  await t.rejects(diag.endorse(rt), { code: 'E_REPLAY' }, 'a consent is endorsed once');
});

t.test('solver rejects forged endorsement records on the chain', async (t) => {
  const now = () => (T0 + 3000) * 1000;
  const ledger = new EmbeddedLedger({ dir: t.testdir(), signer: ledgerSigner, now });
  await ledger.open();
  t.teardown(() => ledger.close());
  const { tracks } = cafeTracks();
  for (const tr of tracks) await ledger.append('tracing', [{ data: batchOf(keysOf(tr.id), tr.fixes) }]);
  const alice = keysOf('alice');
  const time = T0 + 3000;
  const impostor = seed('impostor');
  const selfMade = diagnosticianCert(impostor, impostor);
  const ch = newChallenge(new Ed25519Signer(impostor).publicKey, time);
  const forgedCa = signEndorsement({ certificate: selfMade, challenge: ch, time, level: 0, days: buildConsent(ch, [alice]).days }, impostor);
  const dSeed = seed('diagnostician');
  const ch2 = newChallenge(new Ed25519Signer(dSeed).publicKey, time);
  const days = buildConsent(ch2, [alice]).days;
  const badProof = signEndorsement(
    { certificate: diagnosticianCert(dSeed), challenge: ch2, time, level: 0, days: [{ ...days[0], proof: new Uint8Array(64) }] },
    dSeed,
  );
  const staleCh = newChallenge(new Ed25519Signer(dSeed).publicKey, time - 7200, 900);
  const stale = signEndorsement(
    { certificate: diagnosticianCert(dSeed), challenge: staleCh, time, level: 0, days: buildConsent(staleCh, [alice]).days },
    dSeed,
  );
  for (const data of [forgedCa, badProof, stale]) await ledger.append('tracing', [{ data }]);
  const published: Uint8Array[] = [];
  const s = new Solver({ source: ledgerTracingSource(ledger), sink: { publish: async (e) => void published.push(...e) }, solverKey, caPub, now });
  await s.catchUp();
  t.equal(s.stats.rejectedEndorsements, 3, 'all three rejected');
  t.equal(s.stats.endorsements, 0);
  t.equal(published.length, 0, 'nothing published');
});
