/**
 * The one mapping between the two venue id widths. Venue frames carry a 6-byte
 * venue id (VENUE_ID_BYTES); geodata, endorsements (consent visits, venue
 * exposures) and the venue state registry carry 8 bytes. The 8-byte form is
 * the 6-byte id followed by two zero bytes:
 *
 *   venueId8(id6) = id6 ‖ 00 00        venueId6(id8) = id8[0..6] (padding must be 00 00)
 *
 * Compare venues by `venueIdHex` (the 12 lowercase hex digits of the 6-byte id),
 * whichever width you hold.
 */
import { BeepkitError } from '../errors.ts';
import { fromHex, toHex } from '../bytes.ts';

export const VENUE_ID6_BYTES = 6;
export const VENUE_ID8_BYTES = 8;

/** The 8-byte venue id of a 6-byte frame venue id (bytes or 12 hex digits). */
export function venueId8(id6: Uint8Array | string): Uint8Array {
  const b = typeof id6 === 'string' ? fromHex(id6, 'venue id') : id6;
  if (b.length !== VENUE_ID6_BYTES) throw new BeepkitError('E_RANGE', `venue id: ${b.length} bytes, need ${VENUE_ID6_BYTES}`);
  const out = new Uint8Array(VENUE_ID8_BYTES);
  out.set(b);
  return out;
}

/** The 6-byte frame venue id of an 8-byte venue id; E_FORMAT unless the padding is 00 00. A 6-byte id passes through. */
export function venueId6(id: Uint8Array | string): Uint8Array {
  const b = typeof id === 'string' ? fromHex(id, 'venue id') : id;
  if (b.length === VENUE_ID6_BYTES) return b.slice();
  if (b.length !== VENUE_ID8_BYTES) throw new BeepkitError('E_RANGE', `venue id: ${b.length} bytes, need ${VENUE_ID8_BYTES}`);
  if (b[6] !== 0 || b[7] !== 0) throw new BeepkitError('E_FORMAT', 'venue id: the 8-byte form must end in 00 00');
  return b.slice(0, VENUE_ID6_BYTES);
}

/** The canonical comparison key of a venue id of either width: 12 lowercase hex digits. */
export function venueIdHex(id: Uint8Array | string): string {
  return toHex(venueId6(id));
}
