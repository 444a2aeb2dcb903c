/**
 * What the sim's host-less advertisers send: beepkit venue frames for venue
 * beacons, Exposure Notification frames for crowd members. Pure apart from
 * hashing; all secrets are test fixtures derived from the scenario seed.
 */
import { createHash, createHmac } from 'node:crypto';
import { encodeAdvert, encodeVenueFrame, slotOf, VENUE_ID_BYTES } from '@beepkit/protocol/frames';
import { enIntervalNumber, encodeMetadata, intervalIds } from '@beepkit/protocol/rpi';
import { simulatedVenueKey } from '../scenario/load.ts';
import type { Scenario } from '../scenario/schema.ts';

/** EN advertising flags (LE General Discoverable, no BR/EDR). */
export const EN_FLAGS = 0x1a;

/** The 6-byte venue id of a scenario venue: SHA-256("beepkit-sim/venue-id/" + id)[0..6]. */
export function simulatedVenueId(venueId: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`beepkit-sim/venue-id/${venueId}`).digest().subarray(0, VENUE_ID_BYTES));
}

/** The venue advert for the slot containing scenario epoch time `nowMs`. */
export function venuePayload(scenario: Pick<Scenario, 'seed' | 'name'>, venueId: string, slotSeconds: number, txPower: number, nowMs: number): Uint8Array {
  const slot = slotOf(Math.floor(nowMs / 1000), slotSeconds);
  return encodeVenueFrame({ venueId: simulatedVenueId(venueId), slot, txPower }, simulatedVenueKey(scenario, venueId));
}

/** A payloadFn for a venue beacon: the frame of the current slot on `now` (scenario clock), computed once per slot. */
export function venueFrames(
  scenario: Pick<Scenario, 'seed' | 'name'>,
  venueId: string,
  slotSeconds: number,
  txPower: number,
  now: () => number,
): () => Uint8Array {
  let slot = -1;
  let frame: Uint8Array = new Uint8Array(0);
  return () => {
    const t = now();
    const s = slotOf(Math.floor(t / 1000), slotSeconds);
    if (s !== slot) {
      slot = s;
      frame = venuePayload(scenario, venueId, slotSeconds, txPower, t);
    }
    return frame;
  };
}

/** A crowd member's Temporary Exposure Key: HMAC(scenario name/seed, member id)[0..16], one for the whole run. */
export function crowdTek(scenario: Pick<Scenario, 'seed' | 'name'>, memberId: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', `beepkit-sim/${scenario.name}/${scenario.seed}`).update(`tek/${memberId}`).digest().subarray(0, 16));
}

export interface EnIdentity {
  enin: number;
  /** EN advert bytes (flags, 0xFD6F list, service data RPI‖AEM). */
  payload: Uint8Array;
  /** Non-resolvable private address derived from the RPI, little-endian (air order). */
  address: Buffer;
}

/** The EN identity of a crowd member for the 10-minute interval containing `nowMs`. */
export function enIdentity(tek: Uint8Array, nowMs: number, txPower: number): EnIdentity {
  const enin = enIntervalNumber(Math.floor(nowMs / 1000));
  const [ids] = intervalIds(tek, enin, 1, encodeMetadata(Math.max(-127, Math.min(127, Math.round(txPower)))));
  const payload = encodeAdvert({ kind: 'exposure-notification', rpi: ids!.rpi, aem: ids!.aem, flags: EN_FLAGS });
  return { enin, payload, address: Buffer.from(ids!.address).reverse() };
}

/** A deterministic public BD_ADDR ('aa:bb:…') for a device's controller. */
export function controllerAddress(label: string): string {
  const h = createHash('sha256').update(`beepkit-sim/bdaddr/${label}`).digest();
  h[0] &= 0xfc; // unicast, globally administered
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
