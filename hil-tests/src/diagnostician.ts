/**
 * A diagnostician for the HIL notification suite and the field trial: a fresh signing key, certified
 * by the rig's CA (its `ca.key` in the gateway's data dir; valid from a day before `now` for 30 days),
 * wired to the running gateway's ledger and a notification sink.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { issueCertificate } from '@beepkit/protocol/cert';
import { readSecretFile } from '@beepkit/gateway/ca';
import type { Gateway } from '@beepkit/gateway/app';
import { Diagnostician } from '@beepkit/gateway/diagnosis';
import type { NotificationSink } from '@beepkit/gateway/solver';
import type { VenueRegistry } from '@beepkit/gateway/venues';

export interface RigDiagnosticianOptions {
  gateway: Gateway;
  /** The gateway's data dir (its CA key is read from keys/ca.key). */
  gatewayDir: string;
  region: string;
  sink: NotificationSink;
  venues: VenueRegistry;
  now: () => number;
}

/** The diagnostician and its public key (what the patient's consent names). */
export function rigDiagnostician(o: RigDiagnosticianOptions): { diag: Diagnostician; subject: Uint8Array } {
  const now = o.now();
  const secs = Math.floor(now / 1000);
  const seed = new Uint8Array(randomBytes(32));
  const subject = new Ed25519Signer(seed).publicKey;
  const keys = o.gateway.keys;
  const certificate = issueCertificate(readSecretFile(join(o.gatewayDir, 'keys', 'ca.key')), {
    role: 'diagnostician',
    serial: 1,
    day: Math.floor(now / 86_400_000),
    notBefore: secs - 86_400,
    notAfter: secs + 30 * 86_400,
    subject,
    solverKeyId: keys.solverKeyId,
    region: o.region,
  }).bytes;
  const diag = new Diagnostician({
    signingSeed: seed,
    certificate,
    caPub: keys.caPublicKey,
    ledger: o.gateway.ledger,
    sink: o.sink,
    venues: o.venues,
    now: o.now,
    challengeTtlSeconds: 86_400,
  });
  return { diag, subject };
}
