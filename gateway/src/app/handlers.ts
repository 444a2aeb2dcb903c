/** Request handlers of the CA topics: payload in, encoded reply out (never throw). */
import { BeepkitError, toHex } from '@beepkit/protocol';
import { decodeMessage, encodeMessage } from '@beepkit/protocol/wire';
import { codeOf, correlationOf, errorReply } from '../ingest/index.ts';
import type { CertificateAuthority } from '../ca/authority.ts';
import type { VenueRegistry } from '../ca/registry.ts';

/** CaRequest → CaResponse (certificate or coded refusal); a payload that does not decode → ErrorReply. */
export function handleCaRequest(ca: CertificateAuthority, payload: Uint8Array): { code: string; reply: Uint8Array } {
  let m;
  try {
    m = decodeMessage(payload);
    if (m.type !== 'ca-request') throw new BeepkitError('E_TYPE', `expected ca-request, got ${m.type}`);
  } catch (e) {
    return { code: codeOf(e), reply: errorReply(correlationOf(payload), codeOf(e), (e as Error).message) };
  }
  const result = ca.authorise(m);
  return { code: result.ok ? 'OK' : result.code, reply: encodeMessage({ type: 'ca-response', correlationId: m.correlationId, result }) };
}

/**
 * VenueRegister from a provisioned beacon (its device topic id listed in
 * `ca.trustedBeacons`; the broker ACL binds the topic to the beacon's
 * credentials): keyMaterial is the 32-byte venue key. Anyone else → E_DENIED.
 * Reply: a VenueStatusReply (state empty) confirming the registration, or an
 * ErrorReply (E_DENIED, E_EXISTS, E_KEY, E_RANGE, …).
 */
export function handleVenueRegister(registry: VenueRegistry, trusted: boolean, payload: Uint8Array): Uint8Array {
  const cid = correlationOf(payload);
  try {
    const m = decodeMessage(payload);
    if (m.type !== 'venue-register') throw new BeepkitError('E_TYPE', `expected venue-register, got ${m.type}`);
    if (!trusted) throw new BeepkitError('E_DENIED', 'venue registration only from provisioned beacons (or offline: beepkit gateway venue add)');
    registry.add({ id: toHex(m.venueId), name: m.name, region: m.regionPath, lat: m.latE6 / 1e6, lon: m.lonE6 / 1e6, radiusM: m.radiusM, key: m.keyMaterial });
    return encodeMessage({ type: 'venue-status-reply', correlationId: m.correlationId, venueId: m.venueId, state: 'empty', sinceMs: 0 });
  } catch (e) {
    return errorReply(cid, codeOf(e), (e as Error).message);
  }
}
