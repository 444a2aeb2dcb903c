/**
 * Exposure Notification advertiser helper: flags + 16-bit UUID list FD6F +
 * service data FD6F (RPI | AEM), 31 bytes, sent as legacy ADV_NONCONN_IND from a
 * non-resolvable private address every 200–270 ms (EN Bluetooth Specification v1.2).
 */
import { createHash } from 'node:crypto';
import { BeepkitError } from '@beepkit/protocol';
import { encodeAdvert, LEGACY_ADVERT_BYTES } from '@beepkit/protocol/frames';
import { EN_INTERVAL_MS, type AdvertiseOptions, type Radio } from './types.ts';

/** LE General Discoverable | BR/EDR not supported | simultaneous LE+BR/EDR (controller, host) as in GAEN. */
export const EN_FLAGS = 0x1a;

export function buildEnAdvert(rpi: Uint8Array, aem: Uint8Array): Uint8Array {
  const ad = encodeAdvert({ kind: 'exposure-notification', rpi, aem, flags: EN_FLAGS });
  if (ad.length > LEGACY_ADVERT_BYTES) throw new BeepkitError('E_RANGE', `EN advert is ${ad.length} bytes`);
  return ad;
}

/** True for a non-resolvable private address ('aa:…', MSB first): top two bits 00, not all 0 or all 1. */
export function isNrpa(address: string): boolean {
  const m = /^([0-9a-f]{2}):((?:[0-9a-f]{2}:){4}[0-9a-f]{2})$/i.exec(address);
  if (!m) return false;
  const top = parseInt(m[1], 16);
  const rest = m[2].replace(/:/g, '').toLowerCase();
  if (top >> 6 !== 0) return false;
  return !((top & 0x3f) === 0 && /^0+$/.test(rest)) && !((top & 0x3f) === 0x3f && /^f+$/.test(rest));
}

/**
 * A non-resolvable private address derived from `seed` ('aa:…', MSB first): SHA-256(seed)[0..6] with the top
 * two bits cleared, hashed again in the (2^-45) case of all-zero or all-one random bits. An observer without
 * the seed cannot link two such addresses; the same seed gives the same address.
 */
export function nrpaFrom(seed: Uint8Array): string {
  let h = createHash('sha256').update(seed).digest();
  for (;;) {
    const a = Buffer.from(h.subarray(0, 6));
    a[0] &= 0x3f;
    const hex = [...a].map((x) => x.toString(16).padStart(2, '0')).join(':');
    if (isNrpa(hex)) return hex;
    h = createHash('sha256').update(h).digest();
  }
}

/**
 * Rotates identity in lockstep: advertising off, LE Set Random Address with the interval's
 * non-resolvable private address, the new RPI | AEM, advertising on (ADV_NONCONN_IND, 200–270 ms).
 */
export async function advertiseEn(
  radio: Radio,
  rpi: Uint8Array,
  aem: Uint8Array,
  address: string,
  intervalMs: AdvertiseOptions['intervalMs'] = EN_INTERVAL_MS,
): Promise<void> {
  if (!isNrpa(address)) throw new BeepkitError('E_FORMAT', 'EN advert: the address must be non-resolvable private (top two bits 00)');
  await radio.advertise(buildEnAdvert(rpi, aem), undefined, { address, connectable: false, intervalMs });
}
