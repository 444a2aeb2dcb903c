/** Shared fixtures of the solver/diagnosis/venue tests: deterministic keys, certificates, sealed batches, the café. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { taggedHash } from '@beepkit/protocol/crypto';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { issueCertificate, keyId } from '@beepkit/protocol/cert';
import { dayKeysFromChain, type DayKeys } from '@beepkit/protocol/keys';
import { TraceCodeSealer, signBatch } from '@beepkit/protocol/tracecode';
import { generalise, type Fix } from '@beepkit/protocol/geodata';
import { x25519PublicKey } from '@beepkit/protocol/crypto';
import { loadScenarioFile, positionAt, toLatLon, type Scenario } from '@beepkit/firmware-stubs/scenario';
import { EmbeddedLedger, ed25519Signer } from '../src/ledger/index.ts';
import { ledgerNotificationSink } from '../src/solver/index.ts';

export const seed = (label: string): Uint8Array => taggedHash('beepkit/test/solver', new TextEncoder().encode(label));
export const DAY = 20000;
export const T0 = DAY * 86400 + 10 * 3600;

export const caSeed = seed('ca');
export const caPub = new Ed25519Signer(caSeed).publicKey;
export const solverKey = seed('solver');
export const solverPub = x25519PublicKey(solverKey);
export const ledgerSigner = ed25519Signer(seed('gateway'));
export const venueIdOf = (name: string): Uint8Array => taggedHash('beepkit/test/venue', new TextEncoder().encode(name)).slice(0, 8);

export function keysOf(label: string, day = DAY): DayKeys {
  return dayKeysFromChain(seed('master/' + label), day);
}

export function deviceCert(k: DayKeys): Uint8Array {
  return issueCertificate(caSeed, {
    role: 'device',
    serial: 1,
    day: k.day,
    notBefore: k.day * 86400,
    notAfter: (k.day + 1) * 86400 + 3600,
    subject: k.pseudonym,
    solverKeyId: keyId(solverPub),
    region: 'test',
  }).bytes;
}

export function diagnosticianCert(dSeed: Uint8Array, caSigner = caSeed, role: 'diagnostician' | 'device' = 'diagnostician'): Uint8Array {
  const subject = new Ed25519Signer(dSeed).publicKey;
  return issueCertificate(caSigner, {
    role,
    serial: 7,
    day: DAY,
    notBefore: T0 - 86400,
    notAfter: T0 + 60 * 86400,
    subject,
    solverKeyId: keyId(solverPub),
    region: 'scotland',
  }).bytes;
}

/** One signed batch of a pseudonym-day from fixes (one TraceCode per fix, interval = firstInterval + index: one record per interval). */
export function batchOf(k: DayKeys, fixes: Fix[], level: 'exact' | 'venue' = 'exact', firstInterval = 0): Uint8Array {
  const sealer = new TraceCodeSealer({ prefix: k.pseudonym, ephemeralPriv: k.ephemeralPriv, solverPub });
  const records = fixes.map((f, i) => sealer.seal(firstInterval + i, generalise(f, level)));
  return signBatch({ day: k.day, ephemeralPub: sealer.ephemeralPub, certificate: deviceCert(k), records }, k.signingSeed);
}

export const CAFE = join(fileURLToPath(new URL('.', import.meta.url)), '../../firmware-stubs/scenarios/cafe.yaml');

export interface CafeTrack {
  id: string;
  fixes: Fix[];
  visit?: { venue: Uint8Array; entry: number; exit: number };
}

/** The café trajectories as one fix per minute (venue id while inside the venue radius). */
export function cafeTracks(): { scenario: Scenario; tracks: CafeTrack[]; venue: Uint8Array } {
  const scenario = loadScenarioFile(CAFE);
  const v = scenario.venues[0];
  const venue = venueIdOf(v.id);
  const tracks = scenario.devices.map((d) => {
    const fixes: Fix[] = [];
    let entry = -1;
    let exit = -1;
    for (let m = 0; m < scenario.duration / 60; m++) {
      const p = positionAt(d.path, m * 60 + 30);
      const ll = toLatLon(scenario.origin, p);
      const inside = Math.hypot(p.x - v.center.x, p.y - v.center.y) <= v.radius;
      const start = T0 + m * 60;
      if (inside) {
        if (entry < 0) entry = start;
        exit = start + 60;
      }
      fixes.push({ start, end: start + 60, lat: ll.lat, lon: ll.lon, accuracy: 3, sources: 1, venue: inside ? venue : undefined });
    }
    return { id: d.id, fixes, visit: entry >= 0 ? { venue, entry, exit } : undefined };
  });
  return { scenario, tracks, venue };
}

/** An embedded ledger in `dir`/ledger signed by the test gateway key on clock `now`, closed at teardown, and its notification sink. */
export async function openLedger(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  now: () => number,
): Promise<{ ledger: EmbeddedLedger; sink: ReturnType<typeof ledgerNotificationSink> }> {
  const ledger = new EmbeddedLedger({ dir: dir + '/ledger', signer: ledgerSigner, now });
  await ledger.open();
  t.teardown(() => ledger.close());
  return { ledger, sink: ledgerNotificationSink(ledger) };
}
