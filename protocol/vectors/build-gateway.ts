/** Vectors of what the gateway issues and ledger readers check: certificates, CA request/response, receipt/STH/proof, diagnosis, carer alert. */
import { Writer, concatBytes } from '../src/index.ts';
import { Ed25519Signer, utf8 } from '../src/crypto/index.ts';
import { issueCertificate, keyId } from '../src/cert/index.ts';
import { venueId8 } from '../src/frames/index.ts';
import { caRequestSigningBytes, encodeMessage, type CaRequestBody } from '../src/wire/index.ts';
import { encodeSth, inclusionProof, keyIdOf, leafHash, rootOf, signingBytes } from '../src/merkle/index.ts';
import { buildConsent, encodeChallenge, encodeConsent, newChallenge, signEndorsement, signVenueSignoff, venueSignoffSigner } from '../src/endorse/index.ts';
import { DAY, NOW_MS, NOW_S, file, fixed, flip, hx, type VectorFile } from './common.ts';
import { batchOf, ca, dayKeys, deviceCert, INTERVAL, record, slot, solverPub, venueId, venueKey } from './build-device.ts';
import { encodeVenueFrame } from '../src/frames/index.ts';

export function certificateVectors(): VectorFile {
  const cert = deviceCert().bytes;
  const foreign = issueCertificate(new Ed25519Signer(fixed('other-ca')), {
    role: 'device',
    serial: 2,
    day: DAY,
    notBefore: NOW_S - 300,
    notAfter: (DAY + 1) * 86_400 - 1 + 21_600,
    subject: dayKeys.pseudonym,
    solverKeyId: keyId(solverPub),
    region: 'x',
  }).bytes;
  const expired = issueCertificate(ca, {
    role: 'device',
    serial: 3,
    day: DAY - 1,
    notBefore: (DAY - 1) * 86_400 + 3600,
    notAfter: DAY * 86_400 - 1 + 21_600,
    subject: dayKeys.pseudonym,
    solverKeyId: keyId(solverPub),
    region: 'x',
  }).bytes;
  const early = issueCertificate(ca, {
    role: 'device',
    serial: 4,
    day: DAY,
    notBefore: NOW_S + 1,
    notAfter: (DAY + 1) * 86_400 - 1 + 21_600,
    subject: dayKeys.pseudonym,
    solverKeyId: keyId(solverPub),
    region: 'x',
  }).bytes;
  return file({
    kind: 'certificate',
    spec: 'SPEC.md §10, §1.4',
    context: { caPublicKey: hx(ca.publicKey), now: NOW_S },
    inputs: {
      caSeed: hx(fixed('ca')),
      caPublicKey: hx(ca.publicKey),
      caKeyId: hx(keyId(ca.publicKey)),
      solverKeyId: hx(keyId(solverPub)),
      keyIdRule: 'SHA-256("beepkit/key-id/v1" || public key)[0..8]',
      notBefore: 'max(day × 86400, issue time − maxSkewSec 300)',
      notAfter: '(day + 1) × 86400 − 1 + certGraceSec 21600 (inclusive)',
      signedBytes: `"beepkit/cert/v1" || certificate[0 .. ${cert.length - 64}]`,
    },
    valid: [{ name: 'device certificate for the day', check: 'verifyCertificate', hex: hx(cert) }],
    invalid: [
      { name: 'subject bit flipped', check: 'verifyCertificate', hex: hx(flip(cert, 30)), code: 'E_SIGNATURE' },
      { name: 'issued by another CA', check: 'verifyCertificate', hex: hx(foreign), code: 'E_CERT' },
      { name: "expired (yesterday's, grace over at 05:59:59)", check: 'verifyCertificate', hex: hx(expired), code: 'E_EXPIRED' },
      { name: 'not yet valid (notBefore = now + 1)', check: 'verifyCertificate', hex: hx(early), code: 'E_EXPIRED' },
      { name: 'version 2', check: 'verifyCertificate', hex: hx(flip(cert, 0, 3)), code: 'E_VERSION' },
    ],
  });
}

export function caVectors(): VectorFile {
  const frame = encodeVenueFrame({ venueId, slot, txPower: -59 }, venueKey);
  const body: CaRequestBody = {
    gnss: { timeMs: NOW_MS - 2000, latE6: 55_953_300, lonE6: -3_188_300, accuracyCm: 800, mode: '3d', satellites: 9, hdopX100: 90 },
    venues: [{ frame, rssi: -61, receivedAtMs: NOW_MS - 1500 }],
    day: DAY,
    pseudonymPublicKey: dayKeys.pseudonym,
    extra: new Uint8Array(0),
  };
  const signing = caRequestSigningBytes(body);
  const cid = fixed('ca-correlation', 8);
  const req = encodeMessage({ type: 'ca-request', correlationId: cid, ...body, signature: new Ed25519Signer(dayKeys.signingSeed).sign(signing) });
  const ok = encodeMessage({
    type: 'ca-response',
    correlationId: cid,
    result: { ok: true, certificate: deviceCert().bytes, solverPublicKey: solverPub, solverKeyId: keyId(solverPub) },
  });
  const refused = encodeMessage({
    type: 'ca-response',
    correlationId: cid,
    result: { ok: false, code: 'E_TRUST_GNSS', message: 'fix accuracy worse than 100 m' },
  });
  const error = encodeMessage({
    type: 'error',
    correlationId: new Uint8Array(8),
    code: 'E_FORMAT',
    message: 'wire: bad magic (not a beepkit message)',
    recordHashes: [],
  });
  const gnssAt = 12; // envelope 12 bytes, then the presence byte; mode is at 12 + 1 + 8 + 4 + 4 + 4
  return file({
    kind: 'ca',
    spec: 'SPEC.md §6, §9',
    context: {},
    inputs: {
      request: {
        ...body,
        gnss: body.gnss,
        venues: [{ frame: hx(frame), rssi: -61, receivedAtMs: NOW_MS - 1500 }],
        pseudonymPublicKey: hx(dayKeys.pseudonym),
        extra: '',
      },
      correlationId: hx(cid),
      signingBytes: hx(signing),
    },
    valid: [
      { name: 'CaRequest', check: 'decodeMessage', hex: hx(req) },
      { name: 'CaResponse, status 0: certificate', check: 'decodeMessage', hex: hx(ok) },
      { name: 'CaResponse, status 1: refused', check: 'decodeMessage', hex: hx(refused) },
      { name: 'ErrorReply to an unreadable request (zero correlation id)', check: 'decodeMessage', hex: hx(error) },
    ],
    invalid: [
      { name: 'bad magic', check: 'decodeMessage', hex: hx(flip(req, 0)), code: 'E_FORMAT' },
      { name: 'envelope version 2', check: 'decodeMessage', hex: hx(flip(req, 2, 3)), code: 'E_VERSION' },
      { name: 'unknown type 0x7e', check: 'decodeMessage', hex: hx(concatBytes(req.subarray(0, 3), Uint8Array.of(0x7e), req.subarray(4))), code: 'E_TYPE' },
      { name: 'one trailing byte', check: 'decodeMessage', hex: hx(concatBytes(req, Uint8Array.of(0))), code: 'E_TRAILING' },
      { name: 'truncated signature', check: 'decodeMessage', hex: hx(req.subarray(0, req.length - 1)), code: 'E_TRUNCATED' },
      { name: 'GNSS mode 3', check: 'decodeMessage', hex: hx(flip(req, gnssAt + 1 + 8 + 4 + 4 + 4, 2 ^ 3)), code: 'E_RANGE' },
    ],
  });
}

export function ledgerVectors(): VectorFile {
  const gw = new Ed25519Signer(fixed('gateway'));
  const batch = batchOf([record(INTERVAL - 1), record(INTERVAL)]);
  const entries = [batch, ...[1, 2, 3, 4].map((i) => utf8(`vector entry ${i}`))];
  const leaves = entries.map(leafHash);
  const base = { chainId: 'tracing', treeSize: 5, rootHash: rootOf(leaves), timestampMs: NOW_MS, blockHeight: 2, keyId: keyIdOf(gw.publicKey) };
  const sth = { ...base, signature: gw.sign(signingBytes(base)) };
  const proof = inclusionProof(leaves, 0, 5);
  const receipt = (p = proof, s = encodeSth(sth)): Uint8Array =>
    encodeMessage({
      type: 'receipt',
      correlationId: fixed('batch-correlation', 8),
      entryHash: leaves[0],
      leafIndex: 0,
      blockHeight: 0,
      proof: p,
      signedTreeHead: s,
    });
  const r = receipt();
  return file({
    kind: 'ledger',
    spec: 'SPEC.md §8, §1.4',
    context: { gatewayPublicKey: hx(gw.publicKey), batch: hx(batch) },
    inputs: {
      gatewaySeed: hx(fixed('gateway')),
      gatewayPublicKey: hx(gw.publicKey),
      keyIdRule: 'SHA-256(public key)[0..8]',
      keyId: hx(base.keyId),
      entries: entries.map(hx),
      leafHashes: leaves.map(hx),
      rootHash: hx(base.rootHash),
      sthSigningBytes: hx(signingBytes(base)),
      sth: hx(encodeSth(sth)),
      inclusionProofOfLeaf0: proof.map(hx),
    },
    valid: [
      { name: 'Receipt of the batch (leaf 0 of 5)', check: 'verifyReceipt', hex: hx(r) },
      { name: 'signed tree head', check: 'decodeSth', hex: hx(encodeSth(sth)) },
    ],
    invalid: [
      { name: 'STH signature bit flipped', check: 'verifyReceipt', hex: hx(receipt(proof, flip(encodeSth(sth), -1))), code: 'E_SIGNATURE' },
      { name: 'proof hash bit flipped', check: 'verifyReceipt', hex: hx(receipt([flip(proof[0], 0), ...proof.slice(1)])), code: 'E_CHECKSUM' },
      { name: 'STH version 2', check: 'decodeSth', hex: hx(flip(encodeSth(sth), 0, 3)), code: 'E_VERSION' },
    ],
  });
}

export function endorseVectors(): VectorFile {
  const diag = new Ed25519Signer(fixed('diagnostician'));
  const dcert = issueCertificate(ca, {
    role: 'diagnostician',
    serial: 9,
    day: DAY,
    notBefore: NOW_S - 86_400,
    notAfter: NOW_S + 365 * 86_400,
    subject: diag.publicKey,
    solverKeyId: keyId(solverPub),
    region: 'diagnostician/dr-vector',
  });
  const challenge = newChallenge(diag.publicKey, NOW_S - 60, 900, fixed('nonce', 16));
  const consent = buildConsent(challenge, [dayKeys], { visits: [{ venue: venueId8(venueId), entry: NOW_S - 1500, exit: NOW_S - 300 }] });
  const c = encodeConsent(consent);
  const e = signEndorsement({ certificate: dcert.bytes, challenge, time: NOW_S, level: 2, days: consent.days }, diag);
  const signoffKey = venueSignoffSigner(venueKey);
  const signoff = signVenueSignoff(venueId8(venueId), NOW_S, signoffKey);
  const ch = encodeChallenge(challenge);
  return file({
    kind: 'diagnosis',
    spec: 'SPEC.md §11',
    context: { caPublicKey: hx(ca.publicKey), now: NOW_S, venueSignoffPublicKey: hx(signoffKey.publicKey) },
    inputs: {
      diagnosticianSeed: hx(fixed('diagnostician')),
      diagnosticianCertificate: hx(dcert.bytes),
      challenge: hx(ch),
      dayProofSignedBytes: hx(concatBytes(utf8('beepkit/consent/v1'), ch, new Writer(4).u32(DAY).finish(), dayKeys.pseudonym)),
      venueSignoffSeed: 'HKDF(venueKey, empty salt, "beepkit/venue-signoff-key/v1", 32)',
    },
    valid: [
      { name: 'challenge', check: 'decodeChallenge', hex: hx(ch) },
      { name: 'consent: one day, one visit', check: 'verifyConsent', hex: hx(c) },
      { name: 'endorsement record', check: 'verifyEndorsement', hex: hx(e) },
      { name: 'venue sign-off', check: 'verifyVenueSignoff', hex: hx(signoff) },
    ],
    invalid: [
      { name: 'challenge version 2', check: 'decodeChallenge', hex: hx(flip(ch, 0, 3)), code: 'E_VERSION' },
      { name: 'consent day proof bit flipped', check: 'verifyConsent', hex: hx(flip(c, 2 + 58 + 1 + 4 + 32)), code: 'E_SIGNATURE' },
      { name: 'endorsement signature bit flipped', check: 'verifyEndorsement', hex: hx(flip(e, -1)), code: 'E_SIGNATURE' },
      { name: 'sign-off signature bit flipped', check: 'verifyVenueSignoff', hex: hx(flip(signoff, -1)), code: 'E_SIGNATURE' },
    ],
  });
}

export function carerVectors(): VectorFile {
  const alert = encodeMessage({
    type: 'carer-alert',
    correlationId: new Uint8Array(8),
    wearableLabel: 'Grandma',
    risk: 'high',
    day: DAY,
    explanation: 'was near a diagnosed person',
  });
  const riskAt = 12 + 2 + 'Grandma'.length;
  return file({
    kind: 'carer-alert',
    spec: 'SPEC.md §6 (carer-alert), §12',
    context: {},
    inputs: { wearableLabel: 'Grandma', risk: 'high', day: DAY, explanation: 'was near a diagnosed person' },
    valid: [{ name: 'CarerAlert', check: 'decodeMessage', hex: hx(alert) }],
    invalid: [{ name: 'risk 4', check: 'decodeMessage', hex: hx(flip(alert, riskAt, 3 ^ 4)), code: 'E_RANGE' }],
  });
}
