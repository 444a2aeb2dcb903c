// Certificates this gateway's CA issued (CertificateAuthority onIssued -> Ingest.rememberIssued)
// are trusted without a second CA-signature check; everything else about them is still checked.
import t from 'tap';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeMessage } from '@beepkit/protocol/wire';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { Ingest } from '../src/ingest/index.ts';
import { DAY, Pseudonym, bytesFrom, prng, tempDir, uploadPayload } from './gw-fixtures.ts';
import { testSigner } from './ledger-helpers.ts';

const TODAY = 20_602;
const NOW = (TODAY * DAY + 12 * 3600) * 1000;

t.test('an issued certificate skips the CA-signature check, not the others', async (t) => {
  const tmp = tempDir('ingest-issued');
  t.teardown(tmp.remove);
  const rand = prng(18);
  const ca = new Ed25519Signer(bytesFrom(rand, 32));
  const ledger = new EmbeddedLedger({ now: () => NOW, dir: tmp.dir, signer: testSigner });
  await ledger.open();
  t.teardown(() => ledger.close());
  const ingest = new Ingest({ ledger, caPublicKey: ca.publicKey, now: () => NOW, verifyWorkers: 0 });
  t.teardown(() => ingest.stop());
  const code = async (batch: Uint8Array, n: number): Promise<string> => (await ingest.handle(uploadPayload(batch, n))).code;

  // a certificate whose CA signature is broken: refused when merely presented...
  const forged = new Pseudonym(rand, TODAY).certify(ca);
  forged.cert.bytes[forged.cert.bytes.length - 1] ^= 1;
  forged.cert.signature[63] ^= 1;
  t.equal(await code(forged.batch([0]), 1), 'E_SIGNATURE', 'a presented certificate is verified');
  // ...accepted once remembered as issued: the proof that no second verify runs for issued ones
  ingest.rememberIssued(forged.cert);
  t.equal(await code(forged.batch([1]), 2), 'OK', 'an issued certificate is not verified again');

  const ok = new Pseudonym(rand, TODAY).certify(ca);
  ingest.rememberIssued(ok.cert);
  const r = await ingest.handle(uploadPayload(ok.batch([0, 1, 2]), 3));
  t.equal(r.code, 'OK');
  t.equal(decodeMessage(r.reply!).type, 'receipt');

  const other = new Ed25519Signer(bytesFrom(rand, 32));
  const alien = new Pseudonym(rand, TODAY).certify(other);
  ingest.rememberIssued(alien.cert);
  t.equal(await code(alien.batch([0]), 4), 'E_CERT', 'a certificate of another CA is never remembered');

  const expired = new Pseudonym(rand, TODAY).certify(ca, { notAfter: TODAY * DAY + 3600 });
  ingest.rememberIssued(expired.cert);
  t.equal(await code(expired.batch([0]), 5), 'E_EXPIRED', 'the validity window is still checked');
  const yesterday = new Pseudonym(rand, TODAY - 1).certify(ca, { notAfter: (TODAY + 1) * DAY });
  ingest.rememberIssued(yesterday.cert);
  t.equal(await code(yesterday.batch([0], { day: TODAY }), 6), 'E_CERT', 'the day is still checked');
  const diag = new Pseudonym(rand, TODAY).certify(ca, { role: 'diagnostician' });
  ingest.rememberIssued(diag.cert);
  t.equal(await code(diag.batch([0]), 7), 'E_CERT', 'only device certificates are remembered');
});
