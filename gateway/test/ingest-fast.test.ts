/**
 * Parity of the ingest hot path (src/ingest/fast.ts) with the protocol
 * reference functions it replaces: DeviceCertChecker vs verifyCertificate
 * (accept/reject and error code on valid, tampered, foreign, expired,
 * wrong-day, wrong-role and BOM-region certificates), recordHashes vs
 * recordHash, ed25519Key vs the SPKI import.
 */
import t from 'tap';
import fc from 'fast-check';
import { createPublicKey, verify } from 'node:crypto';
import { toHex } from '@beepkit/protocol';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeCertificate, issueCertificate, verifyCertificate, type Certificate } from '@beepkit/protocol/cert';
import { recordHash } from '@beepkit/protocol/tracecode';
import { DeviceCertChecker, Scratch, ed25519Key, recordHashes } from '../src/ingest/fast.ts';
import { DAY, bytesFrom, prng } from './gw-fixtures.ts';

const rand = prng(4242);
const ca = new Ed25519Signer(bytesFrom(rand, 32));
const otherCa = new Ed25519Signer(bytesFrom(rand, 32));
const D = 20_602;

function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? 'non-beepkit';
  }
}

function cert(o: { signer?: Ed25519Signer; day?: number; role?: 'device' | 'diagnostician'; region?: string; notBefore?: number; notAfter?: number } = {}): Certificate {
  const day = o.day ?? D;
  return issueCertificate(o.signer ?? ca, {
    role: o.role ?? 'device', serial: 7, day, notBefore: o.notBefore ?? day * DAY, notAfter: o.notAfter ?? (day + 1) * DAY,
    subject: bytesFrom(rand, 32), solverKeyId: bytesFrom(rand, 8), region: o.region ?? 'CA/Alameda/Berkeley',
  });
}

t.test('DeviceCertChecker agrees with verifyCertificate', async (t) => {
  const checker = new DeviceCertChecker(ca.publicKey);
  const now = D * DAY + 3600;
  const tamper = (c: Certificate, at: number): Certificate => {
    const b = c.bytes.slice();
    b[at] ^= 1;
    try {
      return decodeCertificate(b);
    } catch {
      return { ...c, bytes: b };
    }
  };
  const cases: [string, Certificate, number, number][] = [
    ['valid', cert(), now, D],
    ['foreign CA', cert({ signer: otherCa }), now, D],
    ['expired', cert({ notAfter: D * DAY + 10 }), now, D],
    ['not yet valid', cert({ notBefore: now + 5 }), now, D],
    ['wrong day', cert({ day: D + 1, notBefore: D * DAY, notAfter: (D + 2) * DAY }), now, D],
    ['diagnostician', cert({ role: 'diagnostician' }), now, D],
    ['BOM region', decodeCertificate(cert({ region: '\uFEFFCA/Alameda' }).bytes), now, D],
    ['unicode region', cert({ region: 'FR/Île-de-France/Café' }), now, D],
    ['tampered subject', tamper(cert(), 40), now, D],
    ['tampered signature', tamper(cert(), 120), now, D],
  ];
  for (const [name, c, n, day] of cases) {
    t.equal(outcome(() => checker.verify(c, n, day)), outcome(() => verifyCertificate(c, ca.publicKey, { now: n, day, role: 'device' })), name);
  }
  t.equal(outcome(() => checker.verify(cases[0][1], now, D)), 'ok', 'the valid one passes');
  t.equal(outcome(() => checker.verify(cases[6][1], now, D)), 'E_CERT', 'a BOM region is refused as by protocol/cert');
  fc.assert(fc.property(fc.integer({ min: 0, max: 160 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
    const c = cert();
    const b = c.bytes.slice();
    b[at % b.length] ^= x;
    let d: Certificate;
    try {
      d = decodeCertificate(b);
    } catch {
      return true;
    }
    return outcome(() => checker.verify(d, now, D)) === outcome(() => verifyCertificate(d, ca.publicKey, { now, day: D, role: 'device' }));
  }), { seed: 17, numRuns: 200 });
});

t.test('recordHashes equals recordHash; ed25519Key equals the SPKI import', async (t) => {
  const records = Array.from({ length: 30 }, (_, i) => bytesFrom(rand, 40 + i * 7));
  const scratch = new Scratch();
  t.same(recordHashes(records, scratch).map(toHex), records.map((r) => toHex(recordHash(r))));
  t.same(recordHashes([bytesFrom(rand, 9000)], scratch).map(toHex).length, 1, 'scratch grows');
  const s = new Ed25519Signer(bytesFrom(rand, 32));
  const k = ed25519Key(s.publicKey);
  const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), s.publicKey]), format: 'der', type: 'spki' });
  t.ok(k.equals(spki), 'same key');
  const msg = Buffer.from('hello');
  t.ok(verify(null, msg, k, Buffer.from(s.sign(msg))), 'verifies a signature');
  t.throws(() => ed25519Key(new Uint8Array(31)), { code: 'E_KEY' });
  t.notOk(verify(null, Buffer.from('hellO'), k, Buffer.from(s.sign(msg))), 'refuses another message');
});
