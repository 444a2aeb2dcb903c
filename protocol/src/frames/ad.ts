/**
 * Strict walker over BLE advertising data (AD structures): each structure is
 * `len | type | data[len-1]`. A zero length ends the payload and only zero
 * padding may follow it. Legacy adverts are ≤ 31 bytes; extended reports up to
 * 255 are accepted.
 */
import { BeepkitError } from '../errors.ts';

export const MAX_ADVERT_BYTES = 255;
export const LEGACY_ADVERT_BYTES = 31;

/** AD type codes (Bluetooth Assigned Numbers, "Common Data Types"). */
export const AD = {
  FLAGS: 0x01,
  INCOMPLETE_UUID16: 0x02,
  COMPLETE_UUID16: 0x03,
  SHORT_NAME: 0x08,
  COMPLETE_NAME: 0x09,
  TX_POWER: 0x0a,
  SERVICE_DATA16: 0x16,
  MANUFACTURER: 0xff,
} as const;

/** Flags AD value commonly used by beacons: LE General Discoverable | BR/EDR not supported. */
export const FLAGS_GENERAL_NO_BREDR = 0x06;

export interface AdStructure {
  type: number;
  data: Uint8Array;
}

/** Splits an advertising payload into its AD structures. Throws E_OVERRUN, E_TRAILING, E_RANGE. */
export function parseAdStructures(buf: Uint8Array): AdStructure[] {
  if (buf.length > MAX_ADVERT_BYTES) throw new BeepkitError('E_RANGE', `advert: ${buf.length} bytes exceeds ${MAX_ADVERT_BYTES}`);
  const out: AdStructure[] = [];
  let i = 0;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) {
      for (let j = i + 1; j < buf.length; j++) {
        if (buf[j] !== 0) throw new BeepkitError('E_TRAILING', `advert: nonzero byte at offset ${j} after the terminating zero length`);
      }
      break;
    }
    if (i + 1 + len > buf.length) {
      throw new BeepkitError('E_OVERRUN', `advert: AD structure at offset ${i} has length ${len}, only ${buf.length - i - 1} bytes follow`);
    }
    out.push({ type: buf[i + 1], data: buf.slice(i + 2, i + 1 + len) });
    i += 1 + len;
  }
  return out;
}

/** Serialises AD structures (no padding). Throws E_RANGE if a structure or the whole payload is too long. */
export function encodeAdStructures(list: readonly AdStructure[]): Uint8Array {
  let n = 0;
  for (const s of list) {
    if (!Number.isInteger(s.type) || s.type < 0 || s.type > 0xff) throw new BeepkitError('E_RANGE', `advert: AD type ${s.type}`);
    if (s.data.length > 254) throw new BeepkitError('E_RANGE', `advert: AD data of ${s.data.length} bytes`);
    n += 2 + s.data.length;
  }
  if (n > MAX_ADVERT_BYTES) throw new BeepkitError('E_RANGE', `advert: ${n} bytes exceeds ${MAX_ADVERT_BYTES}`);
  const out = new Uint8Array(n);
  let o = 0;
  for (const s of list) {
    out[o] = s.data.length + 1;
    out[o + 1] = s.type;
    out.set(s.data, o + 2);
    o += 2 + s.data.length;
  }
  return out;
}

/** The flags AD structure (3 bytes on air). */
export function flagsAd(flags: number = FLAGS_GENERAL_NO_BREDR): AdStructure {
  checkU8(flags, 'flags');
  return { type: AD.FLAGS, data: Uint8Array.of(flags) };
}

/** Reads the flags value if a flags AD is present (its data must be exactly one byte). */
export function readFlags(list: readonly AdStructure[]): number | undefined {
  const s = list.find((x) => x.type === AD.FLAGS);
  if (!s) return undefined;
  if (s.data.length !== 1) throw new BeepkitError('E_FORMAT', `advert: flags AD has ${s.data.length} data bytes, expected 1`);
  return s.data[0];
}

/** A 16-bit service UUID list AD (little-endian on air). */
export function uuid16ListAd(uuids: readonly number[], complete = true): AdStructure {
  const data = new Uint8Array(uuids.length * 2);
  uuids.forEach((u, k) => {
    checkU16(u, 'uuid16');
    data[2 * k] = u & 0xff;
    data[2 * k + 1] = u >> 8;
  });
  return { type: complete ? AD.COMPLETE_UUID16 : AD.INCOMPLETE_UUID16, data };
}

export function readUuid16List(s: AdStructure): number[] {
  if (s.data.length % 2 !== 0) throw new BeepkitError('E_FORMAT', `advert: 16-bit UUID list of odd length ${s.data.length}`);
  const out: number[] = [];
  for (let k = 0; k < s.data.length; k += 2) out.push(s.data[k] | (s.data[k + 1] << 8));
  return out;
}

/** Service data for a 16-bit UUID (UUID little-endian, then the payload). */
export function serviceData16Ad(uuid: number, payload: Uint8Array): AdStructure {
  checkU16(uuid, 'uuid16');
  const data = new Uint8Array(2 + payload.length);
  data[0] = uuid & 0xff;
  data[1] = uuid >> 8;
  data.set(payload, 2);
  return { type: AD.SERVICE_DATA16, data };
}

export function readServiceData16(s: AdStructure): { uuid: number; data: Uint8Array } {
  if (s.data.length < 2) throw new BeepkitError('E_TRUNCATED', 'advert: service data AD shorter than its 16-bit UUID');
  return { uuid: s.data[0] | (s.data[1] << 8), data: s.data.slice(2) };
}

/** Manufacturer-specific data (company id little-endian, then the payload). */
export function manufacturerAd(companyId: number, payload: Uint8Array): AdStructure {
  return { ...serviceData16Ad(companyId, payload), type: AD.MANUFACTURER };
}

export function readManufacturer(s: AdStructure): { companyId: number; data: Uint8Array } {
  if (s.data.length < 2) throw new BeepkitError('E_TRUNCATED', 'advert: manufacturer AD shorter than its company id');
  return { companyId: s.data[0] | (s.data[1] << 8), data: s.data.slice(2) };
}

export function checkU8(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new BeepkitError('E_RANGE', `${what} out of range: ${v}`);
}

export function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new BeepkitError('E_RANGE', `${what} out of range: ${v}`);
}

export function checkI8(v: number, what: string): void {
  if (!Number.isInteger(v) || v < -128 || v > 127) throw new BeepkitError('E_RANGE', `${what} out of range: ${v}`);
}

export function checkLen(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) throw new BeepkitError('E_RANGE', `${what}: expected ${len} bytes`);
}

/** Signed byte from an unsigned one. */
export function i8(v: number): number {
  return (v << 24) >> 24;
}
