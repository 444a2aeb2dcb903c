/**
 * Venue cleaning sign-off, signed by the venue's registered Ed25519 key:
 *   u8 tag=0xC1 | u8 version=1 | 8 venue id | u32 time | 64 Ed25519(venue, "beepkit/venue-signoff/v1" || every byte before)
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer, concatBytes } from '../bytes.ts';
import { hkdf, utf8 } from '../crypto/hash.ts';
import { Ed25519Signer, ed25519Verify } from '../crypto/ed25519.ts';
import { ENDORSE_VERSION } from './consent.ts';

export const SIGNOFF_TAG = 0xc1;
export const SIGNOFF_LEN = 78;
const DOMAIN = utf8('beepkit/venue-signoff/v1');

export interface VenueSignoff {
  venue: Uint8Array;
  time: number;
  signature: Uint8Array;
}

/**
 * The venue's sign-off key, derived from its 32-byte venue key (the one
 * `beepkit gateway venue add` / `beacon provision` hold): the venue signs with
 * it, the gateway (which keeps the venue key) checks with its public half.
 */
export function venueSignoffSigner(venueKey: Uint8Array): Ed25519Signer {
  if (venueKey.length !== 32) throw new BeepkitError('E_KEY', 'venue key must be 32 bytes');
  return new Ed25519Signer(hkdf(venueKey, undefined, 'beepkit/venue-signoff-key/v1', 32));
}

export function signVenueSignoff(venue: Uint8Array, time: number, venueKey: Uint8Array | Ed25519Signer): Uint8Array {
  const s = venueKey instanceof Ed25519Signer ? venueKey : new Ed25519Signer(venueKey);
  const b = new Writer(14).u8(SIGNOFF_TAG).u8(ENDORSE_VERSION).bytes(venue, 8).u32(time).finish();
  return concatBytes(b, s.sign(concatBytes(DOMAIN, b)));
}

export function decodeVenueSignoff(b: Uint8Array): VenueSignoff {
  const r = new Reader(b, 'venue signoff');
  const tag = r.u8('tag');
  if (tag !== SIGNOFF_TAG) throw new BeepkitError('E_TYPE', `venue signoff: tag 0x${tag.toString(16)}`);
  const v = r.u8('version');
  if (v !== ENDORSE_VERSION) throw new BeepkitError('E_VERSION', `venue signoff: unknown version ${v}`);
  const s = { venue: r.bytes(8, 'venue'), time: r.u32('time'), signature: r.bytes(64, 'signature') };
  r.end();
  return s;
}

/** Decodes and checks the venue's signature (E_SIGNATURE). */
export function verifyVenueSignoff(b: Uint8Array, venuePub: Uint8Array): VenueSignoff {
  const s = decodeVenueSignoff(b);
  if (!ed25519Verify(venuePub, concatBytes(DOMAIN, b.subarray(0, b.length - 64)), s.signature))
    throw new BeepkitError('E_SIGNATURE', 'venue signoff: bad venue signature');
  return s;
}
