/**
 * Hot-path crypto for ingest, measured in bench/gateway-ingest.ts:
 *
 * - Ed25519 public keys are imported as JWK: OpenSSL 3 decodes SPKI DER through
 *   its decoder framework (~300 µs a key on the bench machine) while a JWK import
 *   builds the key directly (~20 µs).
 * - `DeviceCertChecker` is `verifyCertificate(cert, ca, { now, day, role: 'device' })`
 *   (same checks, same error codes, same order) with the CA's KeyObject and key
 *   id computed once instead of per call. Parity with protocol/cert is tested in
 *   gateway/test/ingest-fast.test.ts.
 * - `recordHashes` is protocol/tracecode `recordHash` (SHA-256 of
 *   "beepkit/record/v1" || record) over one-shot `crypto.hash` (no Hash object
 *   per record); parity tested too.
 * - Signed-message buffers are assembled in one reusable scratch buffer
 *   (verification is synchronous), not a fresh concat per message.
 */
import { createPublicKey, hash, verify as edVerify, type KeyObject } from 'node:crypto';
import { BeepkitError, equalBytes } from '@beepkit/protocol';
import { keyId, type Certificate } from '@beepkit/protocol/cert';

const CERT_DOMAIN = Buffer.from('beepkit/cert/v1');
const RECORD_TAG = Buffer.from('beepkit/record/v1');
/** Bytes of a certificate before the region: version … solver key id, and the region length byte. */
const CERT_REGION_AT = 1 + 1 + 8 + 4 + 4 + 4 + 32 + 8 + 8 + 1;

/** An Ed25519 public key (32 raw bytes) as a node:crypto KeyObject. */
export function ed25519Key(pub: Uint8Array): KeyObject {
  if (pub.length !== 32) throw new BeepkitError('E_KEY', `ed25519 public key must be 32 bytes, got ${pub.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub.buffer, pub.byteOffset, pub.length).toString('base64url') }, format: 'jwk' });
}

/** A growable scratch buffer: `domain || body` without a fresh allocation per message. */
export class Scratch {
  #buf = Buffer.allocUnsafe(4096);
  /** The bytes `prefix || body`, valid until the next call. */
  join(prefix: Buffer, body: Uint8Array): Buffer {
    const n = prefix.length + body.length;
    if (this.#buf.length < n) this.#buf = Buffer.allocUnsafe(Math.max(n, this.#buf.length * 2));
    prefix.copy(this.#buf, 0);
    this.#buf.set(body, prefix.length);
    return this.#buf.subarray(0, n);
  }
}

/** Ed25519 verify that never throws (a malformed signature is just false). */
export function verifyEd25519(msg: Uint8Array, key: KeyObject, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  try {
    return edVerify(null, msg, key, sig);
  } catch {
    return false;
  }
}

export class DeviceCertChecker {
  readonly #caKey: KeyObject;
  readonly #caKeyId: Uint8Array;
  readonly #scratch = new Scratch();

  constructor(caPublicKey: Uint8Array) {
    this.#caKey = ed25519Key(caPublicKey);
    this.#caKeyId = keyId(caPublicKey);
  }

  /** Throws E_CERT / E_SIGNATURE / E_EXPIRED exactly as protocol/cert `verifyCertificate` with role 'device'. */
  verify(c: Certificate, nowS: number, day: number): void {
    if (!equalBytes(c.issuerKeyId, this.#caKeyId)) throw new BeepkitError('E_CERT', 'certificate: issued by another CA');
    const b = c.bytes;
    const body = b.subarray(0, b.length - 64);
    if (!equalBytes(b.subarray(b.length - 64), c.signature) || !verifyEd25519(this.#scratch.join(CERT_DOMAIN, body), this.#caKey, c.signature)) {
      throw new BeepkitError('E_SIGNATURE', 'certificate: bad CA signature');
    }
    // decodeCertificate reads every field from these bytes; only the region can re-encode differently (a UTF-8 BOM)
    const region = Buffer.from(c.region, 'utf8');
    if (body.length !== CERT_REGION_AT + region.length || !region.equals(body.subarray(CERT_REGION_AT))) {
      throw new BeepkitError('E_CERT', 'certificate: fields differ from the signed bytes');
    }
    if (nowS < c.notBefore || nowS > c.notAfter) throw new BeepkitError('E_EXPIRED', `certificate: not valid at ${nowS} (${c.notBefore}..${c.notAfter})`);
    if (c.day !== day) throw new BeepkitError('E_CERT', `certificate: for day ${c.day}, not ${day}`);
    if (c.role !== 'device') throw new BeepkitError('E_CERT', `certificate: role ${c.role}, not device`);
  }
}

/** protocol/tracecode `recordHash` of each record, one-shot SHA-256 each. */
export function recordHashes(records: Uint8Array[], scratch: Scratch): Uint8Array[] {
  return records.map((r) => hash('sha256', scratch.join(RECORD_TAG, r), 'buffer'));
}
