/**
 * Exposure Notification advertiser helper: flags + 16-bit UUID list FD6F +
 * service data FD6F (RPI | AEM), 31 bytes, sent as legacy ADV_IND by bleno.
 */
import { BeepkitError } from '@beepkit/protocol';
import { encodeAdvert, LEGACY_ADVERT_BYTES } from '@beepkit/protocol/frames';
import type { Radio } from './types.ts';

/** LE General Discoverable | BR/EDR not supported | simultaneous LE+BR/EDR (controller, host) as in GAEN. */
export const EN_FLAGS = 0x1a;

export function buildEnAdvert(rpi: Uint8Array, aem: Uint8Array): Uint8Array {
  const ad = encodeAdvert({ kind: 'exposure-notification', rpi, aem, flags: EN_FLAGS });
  if (ad.length > LEGACY_ADVERT_BYTES) throw new BeepkitError('E_RANGE', `EN advert is ${ad.length} bytes`);
  return ad;
}

/**
 * Rotates identity in lockstep: stop advertising, set the new (random static)
 * address, advertise the new RPI | AEM.
 */
export async function advertiseEn(radio: Radio, rpi: Uint8Array, aem: Uint8Array, address?: string): Promise<void> {
  const ad = buildEnAdvert(rpi, aem);
  await radio.stopAdvertising();
  if (address !== undefined) await radio.setAddress(address);
  await radio.advertise(ad);
}
