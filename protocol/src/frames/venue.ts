/**
 * beepkit venue frame: an Eddystone-EID-like rotating frame that cannot be forged
 * without the venue key, and whose replay is bounded to a slot window.
 *
 * Layout (31 bytes, fits one legacy advert including the flags AD):
 *
 *   02 01 <flags>                       flags AD (3 bytes)
 *   1b ff ff ff                         manufacturer AD, length 27, company 0xFFFF (LE)
 *   b1                                  magic (high nibble 0xB) | version (low nibble, 1)
 *   <venue id: 6>                       venue identifier
 *   <slot: u32 BE>                      floor(unixSeconds / slotSeconds)
 *   <txPower: i8>                       calibrated TX power at 0 m (dBm)
 *   <mac: 12>                           HMAC-SHA256(venueKey, TAG | ver | venueId | slot | txPower)[0..12]
 *
 * TAG is the ASCII string "beepkit/venue-frame" (19 bytes).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import {
  AD,
  checkI8,
  checkLen,
  checkU8,
  encodeAdStructures,
  flagsAd,
  FLAGS_GENERAL_NO_BREDR,
  i8,
  manufacturerAd,
  parseAdStructures,
  readManufacturer,
  type AdStructure,
} from './ad.ts';

export const VENUE_COMPANY_ID = 0xffff;
export const VENUE_MAGIC = 0xb0;
export const VENUE_VERSION = 1;
export const VENUE_ID_BYTES = 6;
export const VENUE_KEY_BYTES = 32;
export const VENUE_MAC_BYTES = 12;
export const DEFAULT_SLOT_SECONDS = 60;
export const DEFAULT_SLOT_WINDOW = 1;
const TAG = new TextEncoder().encode('beepkit/venue-frame');
/** Bytes after the company id: magic/version, venue id, slot, tx, mac. */
const BODY_BYTES = 1 + VENUE_ID_BYTES + 4 + 1 + VENUE_MAC_BYTES;

export interface VenueFrameFields {
  venueId: Uint8Array;
  slot: number;
  txPower: number;
}

export interface VenueFrame extends VenueFrameFields {
  kind: 'beepkit-venue';
  version: number;
  mac: Uint8Array;
  flags?: number;
}

/** slot = floor(unixSeconds / slotSeconds). */
export function slotOf(unixSeconds: number, slotSeconds: number = DEFAULT_SLOT_SECONDS): number {
  if (!Number.isFinite(unixSeconds) || unixSeconds < 0) throw new BeepkitError('E_RANGE', `slotOf: bad time ${unixSeconds}`);
  if (!Number.isInteger(slotSeconds) || slotSeconds < 1) throw new BeepkitError('E_RANGE', `slotOf: bad slotSeconds ${slotSeconds}`);
  const slot = Math.floor(unixSeconds / slotSeconds);
  if (slot > 0xffffffff) throw new BeepkitError('E_RANGE', `slotOf: slot ${slot} exceeds u32`);
  return slot;
}

function checkFields(f: VenueFrameFields): void {
  checkLen(f.venueId, VENUE_ID_BYTES, 'venue frame: venueId');
  if (!Number.isInteger(f.slot) || f.slot < 0 || f.slot > 0xffffffff) throw new BeepkitError('E_RANGE', `venue frame: slot ${f.slot}`);
  checkI8(f.txPower, 'venue frame: txPower');
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== VENUE_KEY_BYTES) throw new BeepkitError('E_KEY', `venue key must be ${VENUE_KEY_BYTES} bytes`);
}

/** The full truncated MAC for the given fields under `venueKey`. */
export function venueMac(f: VenueFrameFields, venueKey: Uint8Array, version = VENUE_VERSION): Uint8Array {
  checkFields(f);
  checkKey(venueKey);
  const msg = new Uint8Array(TAG.length + 1 + VENUE_ID_BYTES + 4 + 1);
  msg.set(TAG, 0);
  let o = TAG.length;
  msg[o++] = version;
  msg.set(f.venueId, o);
  o += VENUE_ID_BYTES;
  new DataView(msg.buffer).setUint32(o, f.slot);
  msg[o + 4] = f.txPower & 0xff;
  const full = createHmac('sha256', venueKey).update(msg).digest();
  return new Uint8Array(full.subarray(0, VENUE_MAC_BYTES));
}

/** Manufacturer AD structure carrying a venue frame with an already computed MAC. */
export function venueFrameAd(f: VenueFrameFields & { mac: Uint8Array; version?: number }): AdStructure {
  checkFields(f);
  checkLen(f.mac, VENUE_MAC_BYTES, 'venue frame: mac');
  const version = f.version ?? VENUE_VERSION;
  if (version !== VENUE_VERSION) throw new BeepkitError('E_VERSION', `venue frame: version ${version}`);
  const body = new Uint8Array(BODY_BYTES);
  body[0] = VENUE_MAGIC | version;
  body.set(f.venueId, 1);
  new DataView(body.buffer).setUint32(1 + VENUE_ID_BYTES, f.slot);
  body[1 + VENUE_ID_BYTES + 4] = f.txPower & 0xff;
  body.set(f.mac, BODY_BYTES - VENUE_MAC_BYTES);
  return manufacturerAd(VENUE_COMPANY_ID, body);
}

/** Encodes a complete 31-byte venue advert (flags AD + venue manufacturer AD). */
export function encodeVenueFrame(f: VenueFrameFields, venueKey: Uint8Array, opts: { flags?: number } = {}): Uint8Array {
  const flags = opts.flags ?? FLAGS_GENERAL_NO_BREDR;
  checkU8(flags, 'flags');
  return encodeAdStructures([flagsAd(flags), venueFrameAd({ ...f, mac: venueMac(f, venueKey) })]);
}

/** True if a manufacturer AD is a beepkit venue frame (company 0xFFFF and the magic nibble). */
export function isVenueManufacturerAd(s: AdStructure): boolean {
  return s.type === AD.MANUFACTURER && s.data.length >= 3 && s.data[0] === 0xff && s.data[1] === 0xff && (s.data[2] & 0xf0) === VENUE_MAGIC;
}

/** Decodes the venue manufacturer AD (structure only, MAC not checked). */
export function decodeVenueAd(s: AdStructure): Omit<VenueFrame, 'flags'> {
  const { companyId, data } = readManufacturer(s);
  if (companyId !== VENUE_COMPANY_ID || data.length < 1 || (data[0] & 0xf0) !== VENUE_MAGIC) {
    throw new BeepkitError('E_TYPE', 'venue frame: not a beepkit venue manufacturer AD');
  }
  const version = data[0] & 0x0f;
  if (version !== VENUE_VERSION) throw new BeepkitError('E_VERSION', `venue frame: unknown version ${version}`);
  if (data.length < BODY_BYTES) throw new BeepkitError('E_TRUNCATED', `venue frame: ${data.length} bytes, need ${BODY_BYTES}`);
  if (data.length > BODY_BYTES) throw new BeepkitError('E_TRAILING', `venue frame: ${data.length - BODY_BYTES} trailing bytes`);
  return {
    kind: 'beepkit-venue',
    version,
    venueId: data.slice(1, 1 + VENUE_ID_BYTES),
    slot: new DataView(data.buffer, data.byteOffset).getUint32(1 + VENUE_ID_BYTES),
    txPower: i8(data[1 + VENUE_ID_BYTES + 4]),
    mac: data.slice(BODY_BYTES - VENUE_MAC_BYTES),
  };
}

/** Decodes a venue frame from an advertising payload (structure only). Throws E_TYPE if none is present. */
export function decodeVenueFrame(buf: Uint8Array): VenueFrame {
  const list = parseAdStructures(buf);
  const s = list.find(isVenueManufacturerAd);
  if (!s) throw new BeepkitError('E_TYPE', 'advert: no beepkit venue frame');
  const frame: VenueFrame = decodeVenueAd(s);
  const fl = list.find((x) => x.type === AD.FLAGS);
  if (fl) {
    if (fl.data.length !== 1) throw new BeepkitError('E_FORMAT', 'advert: flags AD must hold one byte');
    frame.flags = fl.data[0];
  }
  return frame;
}

/**
 * Verifies a decoded venue frame: MAC first (E_CHECKSUM, constant-time compare),
 * then freshness: slot < nowSlot - window → E_REPLAY (stale, possibly replayed),
 * slot > nowSlot + window → E_EXPIRED (not yet valid / clock skew).
 */
export function verifyVenueFrame(
  frame: VenueFrameFields & { mac: Uint8Array; version?: number },
  venueKey: Uint8Array,
  opts: { nowSlot: number; window?: number },
): void {
  const window = opts.window ?? DEFAULT_SLOT_WINDOW;
  if (!Number.isInteger(opts.nowSlot) || opts.nowSlot < 0) throw new BeepkitError('E_RANGE', `venue frame: nowSlot ${opts.nowSlot}`);
  if (!Number.isInteger(window) || window < 0) throw new BeepkitError('E_RANGE', `venue frame: window ${window}`);
  const version = frame.version ?? VENUE_VERSION;
  if (version !== VENUE_VERSION) throw new BeepkitError('E_VERSION', `venue frame: version ${version}`);
  checkLen(frame.mac, VENUE_MAC_BYTES, 'venue frame: mac');
  const expect = venueMac(frame, venueKey, version);
  if (!timingSafeEqual(expect, frame.mac)) throw new BeepkitError('E_CHECKSUM', 'venue frame: MAC does not verify');
  if (frame.slot < opts.nowSlot - window) throw new BeepkitError('E_REPLAY', `venue frame: slot ${frame.slot} older than ${opts.nowSlot} - ${window}`);
  if (frame.slot > opts.nowSlot + window) throw new BeepkitError('E_EXPIRED', `venue frame: slot ${frame.slot} newer than ${opts.nowSlot} + ${window}`);
}
