/**
 * decodeAdvert / encodeAdvert: advertising payload <-> a discriminated union by `kind`.
 * Precedence when several frames share one payload: iBeacon, beepkit venue,
 * Exposure Notification, Eddystone, else `unknown`.
 */
import { BeepkitError } from '../errors.ts';
import { toHex } from '../bytes.ts';
import {
  AD,
  checkI8,
  checkLen,
  encodeAdStructures,
  flagsAd,
  i8,
  manufacturerAd,
  parseAdStructures,
  readFlags,
  readManufacturer,
  readServiceData16,
  readUuid16List,
  serviceData16Ad,
  uuid16ListAd,
  type AdStructure,
} from './ad.ts';
import { decodeEddystone, EDDYSTONE_UUID, encodeEddystone, type Eddystone } from './eddystone.ts';
import { decodeVenueAd, isVenueManufacturerAd, venueFrameAd, type VenueFrame } from './venue.ts';

export const APPLE_COMPANY_ID = 0x004c;
export const EXPOSURE_NOTIFICATION_UUID = 0xfd6f;

export interface IBeacon {
  kind: 'ibeacon';
  uuid: string;
  major: number;
  minor: number;
  txPower: number;
  flags?: number;
}
export interface ExposureNotification {
  kind: 'exposure-notification';
  rpi: Uint8Array;
  aem: Uint8Array;
  flags?: number;
}
export interface UnknownAdvert {
  kind: 'unknown';
  /** Every AD structure in order; the encoder writes exactly these. */
  structures: AdStructure[];
  /** Convenience summaries (derived; ignored by the encoder). */
  flags?: number;
  localName?: string;
  txPowerLevel?: number;
  serviceUuids16?: number[];
  manufacturer?: { companyId: number; data: Uint8Array }[];
  serviceData16?: { uuid: number; data: Uint8Array }[];
}
export type Advert = IBeacon | Eddystone | ExposureNotification | VenueFrame | UnknownAdvert;
export type AdvertKind = Advert['kind'];

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function uuidToBytes(uuid: string): Uint8Array {
  if (!UUID_RE.test(uuid)) throw new BeepkitError('E_FORMAT', `uuid must be canonical lowercase 8-4-4-4-12: ${JSON.stringify(uuid)}`);
  return new Uint8Array(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

export function uuidFromBytes(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function decodeIBeacon(data: Uint8Array): IBeacon | null {
  // data after the company id: 02 15 uuid(16) major(2) minor(2) tx(1)
  if (data.length < 2 || data[0] !== 0x02 || data[1] !== 0x15) return null;
  if (data.length < 23) throw new BeepkitError('E_TRUNCATED', `ibeacon: ${data.length} bytes after the company id, need 23`);
  if (data.length > 23) throw new BeepkitError('E_TRAILING', `ibeacon: ${data.length - 23} trailing bytes`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { kind: 'ibeacon', uuid: uuidFromBytes(data.subarray(2, 18)), major: v.getUint16(18), minor: v.getUint16(20), txPower: i8(data[22]) };
}

/** Decodes an advertising payload (AD structures). Only BeepkitError escapes. */
export function decodeAdvert(buf: Uint8Array): Advert {
  const list = parseAdStructures(buf);
  const flags = readFlags(list);
  const withFlags = <T extends Advert>(a: T): T => (flags === undefined ? a : { ...a, flags });
  const uuids: number[] = [];
  for (const s of list) if (s.type === AD.COMPLETE_UUID16 || s.type === AD.INCOMPLETE_UUID16) uuids.push(...readUuid16List(s));
  for (const s of list) {
    if (s.type !== AD.MANUFACTURER) continue;
    const m = readManufacturer(s);
    if (m.companyId === APPLE_COMPANY_ID) {
      const ib = decodeIBeacon(m.data);
      if (ib) return withFlags(ib);
    }
    if (isVenueManufacturerAd(s)) return withFlags(decodeVenueAd(s));
  }
  const serviceData = list.filter((s) => s.type === AD.SERVICE_DATA16).map(readServiceData16);
  const en = serviceData.find((d) => d.uuid === EXPOSURE_NOTIFICATION_UUID);
  const enListed = list.some((s) => s.type === AD.COMPLETE_UUID16 && readUuid16List(s).includes(EXPOSURE_NOTIFICATION_UUID));
  if (en && enListed) {
    if (en.data.length < 20) throw new BeepkitError('E_TRUNCATED', `exposure-notification: ${en.data.length} bytes of service data, need 20`);
    if (en.data.length > 20) throw new BeepkitError('E_TRAILING', `exposure-notification: ${en.data.length - 20} trailing bytes`);
    return withFlags({ kind: 'exposure-notification', rpi: en.data.slice(0, 16), aem: en.data.slice(16, 20) });
  }
  const ed = serviceData.find((d) => d.uuid === EDDYSTONE_UUID);
  if (ed) {
    const frame = decodeEddystone(ed.data);
    if (frame) return withFlags(frame);
  }
  return summarise(list, flags, uuids, serviceData);
}

function summarise(list: AdStructure[], flags: number | undefined, uuids: number[], serviceData: { uuid: number; data: Uint8Array }[]): UnknownAdvert {
  const out: UnknownAdvert = { kind: 'unknown', structures: list };
  if (flags !== undefined) out.flags = flags;
  const name = list.find((s) => s.type === AD.COMPLETE_NAME) ?? list.find((s) => s.type === AD.SHORT_NAME);
  if (name) out.localName = new TextDecoder('utf-8').decode(name.data);
  const tx = list.find((s) => s.type === AD.TX_POWER);
  if (tx) {
    if (tx.data.length !== 1) throw new BeepkitError('E_FORMAT', 'advert: TX power level AD must hold one byte');
    out.txPowerLevel = i8(tx.data[0]);
  }
  if (uuids.length) out.serviceUuids16 = uuids;
  const mfr = list.filter((s) => s.type === AD.MANUFACTURER).map(readManufacturer);
  if (mfr.length) out.manufacturer = mfr;
  if (serviceData.length) out.serviceData16 = serviceData;
  return out;
}

/** Encodes an advert of any kind. The flags AD is written first when `flags` is set. */
export function encodeAdvert(a: Advert): Uint8Array {
  if (a.kind === 'unknown') return encodeAdStructures(a.structures);
  const list: AdStructure[] = a.flags === undefined ? [] : [flagsAd(a.flags)];
  switch (a.kind) {
    case 'ibeacon': {
      checkI8(a.txPower, 'ibeacon: txPower');
      for (const [k, v] of [
        ['major', a.major],
        ['minor', a.minor],
      ] as const) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new BeepkitError('E_RANGE', `ibeacon: ${k} out of range: ${v}`);
      }
      const body = new Uint8Array(23);
      const v = new DataView(body.buffer);
      body[0] = 0x02;
      body[1] = 0x15;
      body.set(uuidToBytes(a.uuid), 2);
      v.setUint16(18, a.major);
      v.setUint16(20, a.minor);
      body[22] = a.txPower & 0xff;
      list.push(manufacturerAd(APPLE_COMPANY_ID, body));
      break;
    }
    case 'exposure-notification': {
      checkLen(a.rpi, 16, 'exposure-notification: rpi');
      checkLen(a.aem, 4, 'exposure-notification: aem');
      const body = new Uint8Array(20);
      body.set(a.rpi, 0);
      body.set(a.aem, 16);
      list.push(uuid16ListAd([EXPOSURE_NOTIFICATION_UUID]), serviceData16Ad(EXPOSURE_NOTIFICATION_UUID, body));
      break;
    }
    case 'beepkit-venue':
      list.push(venueFrameAd(a));
      break;
    default:
      list.push(uuid16ListAd([EDDYSTONE_UUID]), serviceData16Ad(EDDYSTONE_UUID, encodeEddystone(a)));
  }
  return encodeAdStructures(list);
}

/** JSON-friendly view of a decoded advert: bytes as lowercase hex, everything else as is. */
export function advertToJson(a: Advert): Record<string, unknown> {
  return jsonView(a) as Record<string, unknown>;
}

/** Deep copy with every Uint8Array replaced by lowercase hex (for CLI output, logs and vector files). */
export function jsonView(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(jsonView);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonView(x)]));
  }
  return v;
}
