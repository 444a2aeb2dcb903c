/** Pure fixtures (no broker, no MQTT): pseudonyms, batches, seeded randomness. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol';
import { issueCertificate, type Certificate } from '@beepkit/protocol/cert';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { encodeTraceCode, recordHash, signBatch } from '@beepkit/protocol/tracecode';
import { encodeMessage } from '@beepkit/protocol/wire';

export const DAY = 86_400;

/** Deterministic PRNG (mulberry32). */
import { mulberry32 as prng } from '@beepkit/protocol/rng';
export { prng };

export function bytesFrom(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(os.tmpdir(), `beepkit-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pseudonym of one day with a certificate, signing batches of synthetic TraceCodes. */
export class Pseudonym {
  readonly signer: Ed25519Signer;
  readonly ephemeral: Uint8Array;
  cert!: Certificate;
  constructor(
    readonly rand: () => number,
    readonly day: number,
  ) {
    this.signer = new Ed25519Signer(bytesFrom(rand, 32));
    this.ephemeral = bytesFrom(rand, 32);
  }
  get publicKey(): Uint8Array {
    return this.signer.publicKey;
  }
  /** Issues the certificate directly with `ca` (tests of ingest that do not go through the CA flow). */
  certify(ca: Ed25519Signer, o: { day?: number; notBefore?: number; notAfter?: number; role?: 'device' | 'diagnostician' } = {}): this {
    const day = o.day ?? this.day;
    this.cert = issueCertificate(ca, {
      role: o.role ?? 'device',
      serial: 1,
      day,
      notBefore: o.notBefore ?? day * DAY,
      notAfter: o.notAfter ?? (day + 1) * DAY + 3600,
      subject: this.publicKey,
      solverKeyId: new Uint8Array(8),
      region: 'CA/Alameda/Berkeley/Cafe',
    });
    return this;
  }
  record(interval: number, prefix = this.publicKey): Uint8Array {
    return encodeTraceCode({ version: 1, prefix, interval, salt: bytesFrom(this.rand, 8), ciphertext: bytesFrom(this.rand, 46) });
  }
  batch(intervals: number[], o: { day?: number; cert?: Uint8Array } = {}): Uint8Array {
    return signBatch(
      { day: o.day ?? this.day, ephemeralPub: this.ephemeral, certificate: o.cert ?? this.cert.bytes, records: intervals.map((i) => this.record(i)) },
      this.signer,
    );
  }
}

export function cid(n: number): Uint8Array {
  const c = new Uint8Array(8);
  new DataView(c.buffer).setUint32(4, n);
  return c;
}

export function uploadPayload(batch: Uint8Array, n: number): Uint8Array {
  return encodeMessage({ type: 'upload-batch', correlationId: cid(n), batch });
}

export { recordHash, toHex };
