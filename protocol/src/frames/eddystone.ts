/**
 * Eddystone frames (service data for UUID 0xFEAA): UID, URL, TLM (unencrypted,
 * version 0) and EID, per the google/eddystone protocol specification.
 */
import { BeepkitError } from '../errors.ts';
import { Reader } from '../bytes.ts';
import { checkI8, checkLen, i8 } from './ad.ts';

export const EDDYSTONE_UUID = 0xfeaa;
export const EDDYSTONE_FRAME = { UID: 0x00, URL: 0x10, TLM: 0x20, EID: 0x30 } as const;

export interface EddystoneUid {
  kind: 'eddystone-uid';
  txPower: number;
  namespace: Uint8Array;
  instance: Uint8Array;
  flags?: number;
}
export interface EddystoneUrl {
  kind: 'eddystone-url';
  txPower: number;
  url: string;
  flags?: number;
}
export interface EddystoneTlm {
  kind: 'eddystone-tlm';
  /** Battery voltage in mV (0 = not reported). */
  batteryMv: number;
  /** Beacon temperature in °C from 8.8 fixed point; null when the beacon reports 0x8000 (unsupported). */
  temperatureC: number | null;
  advCount: number;
  /** Time since power-on in 0.1 s units, as on air. */
  secCount: number;
  /** secCount / 10. Derived; ignored by the encoder. */
  seconds: number;
  flags?: number;
}
export interface EddystoneEid {
  kind: 'eddystone-eid';
  txPower: number;
  eid: Uint8Array;
  flags?: number;
}
export type Eddystone = EddystoneUid | EddystoneUrl | EddystoneTlm | EddystoneEid;

export const URL_SCHEMES = ['http://www.', 'https://www.', 'http://', 'https://'] as const;
export const URL_EXPANSIONS = [
  '.com/',
  '.org/',
  '.edu/',
  '.net/',
  '.info/',
  '.biz/',
  '.gov/',
  '.com',
  '.org',
  '.edu',
  '.net',
  '.info',
  '.biz',
  '.gov',
] as const;
export const MAX_URL_BYTES = 17;

/** Encodes a URL into scheme byte + compressed bytes (longest expansion first). */
export function encodeEddystoneUrl(url: string): Uint8Array {
  const scheme = longest(URL_SCHEMES, url, 0);
  if (scheme < 0) throw new BeepkitError('E_FORMAT', `eddystone-url: unsupported scheme in ${JSON.stringify(url)}`);
  const out: number[] = [scheme];
  let i = URL_SCHEMES[scheme].length;
  while (i < url.length) {
    const e = longest(URL_EXPANSIONS, url, i);
    if (e >= 0) {
      out.push(e);
      i += URL_EXPANSIONS[e].length;
      continue;
    }
    const c = url.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) throw new BeepkitError('E_FORMAT', `eddystone-url: character 0x${c.toString(16)} cannot be encoded`);
    out.push(c);
    i++;
  }
  if (out.length - 1 > MAX_URL_BYTES) throw new BeepkitError('E_RANGE', `eddystone-url: ${out.length - 1} encoded bytes exceed ${MAX_URL_BYTES}`);
  return Uint8Array.from(out);
}

function longest(table: readonly string[], s: string, at: number): number {
  let best = -1;
  for (let k = 0; k < table.length; k++) {
    if (s.startsWith(table[k], at) && (best < 0 || table[k].length > table[best].length)) best = k;
  }
  return best;
}

/** Decodes scheme byte + compressed URL bytes. */
export function decodeEddystoneUrl(b: Uint8Array): string {
  if (b.length < 1) throw new BeepkitError('E_TRUNCATED', 'eddystone-url: missing scheme');
  if (b[0] >= URL_SCHEMES.length) throw new BeepkitError('E_FORMAT', `eddystone-url: reserved scheme 0x${b[0].toString(16)}`);
  if (b.length - 1 > MAX_URL_BYTES) throw new BeepkitError('E_RANGE', `eddystone-url: ${b.length - 1} encoded bytes exceed ${MAX_URL_BYTES}`);
  let s: string = URL_SCHEMES[b[0]];
  for (let k = 1; k < b.length; k++) {
    const c = b[k];
    if (c < URL_EXPANSIONS.length) s += URL_EXPANSIONS[c];
    else if (c >= 0x21 && c <= 0x7e) s += String.fromCharCode(c);
    else throw new BeepkitError('E_FORMAT', `eddystone-url: reserved byte 0x${c.toString(16)}`);
  }
  return s;
}

/** Service-data payload (after the UUID) for an Eddystone frame. */
export function encodeEddystone(f: Eddystone): Uint8Array {
  switch (f.kind) {
    case 'eddystone-uid': {
      checkI8(f.txPower, 'eddystone-uid: txPower');
      checkLen(f.namespace, 10, 'eddystone-uid: namespace');
      checkLen(f.instance, 6, 'eddystone-uid: instance');
      const out = new Uint8Array(20); // frame type, tx, ns 10, instance 6, RFU 2 (zero)
      out[0] = EDDYSTONE_FRAME.UID;
      out[1] = f.txPower & 0xff;
      out.set(f.namespace, 2);
      out.set(f.instance, 12);
      return out;
    }
    case 'eddystone-url': {
      checkI8(f.txPower, 'eddystone-url: txPower');
      const u = encodeEddystoneUrl(f.url);
      const out = new Uint8Array(2 + u.length);
      out[0] = EDDYSTONE_FRAME.URL;
      out[1] = f.txPower & 0xff;
      out.set(u, 2);
      return out;
    }
    case 'eddystone-tlm': {
      const out = new Uint8Array(14);
      const v = new DataView(out.buffer);
      out[0] = EDDYSTONE_FRAME.TLM;
      out[1] = 0; // version 0: unencrypted
      v.setUint16(2, intIn(f.batteryMv, 0, 0xffff, 'batteryMv'));
      if (f.temperatureC === null) v.setUint16(4, 0x8000);
      else {
        const fixed = f.temperatureC * 256;
        if (!Number.isInteger(fixed) || fixed < -0x7fff || fixed > 0x7fff)
          throw new BeepkitError('E_RANGE', `eddystone-tlm: temperature ${f.temperatureC} is not 8.8 fixed point`);
        v.setInt16(4, fixed);
      }
      v.setUint32(6, intIn(f.advCount, 0, 0xffffffff, 'advCount'));
      v.setUint32(10, intIn(f.secCount, 0, 0xffffffff, 'secCount'));
      return out;
    }
    case 'eddystone-eid': {
      checkI8(f.txPower, 'eddystone-eid: txPower');
      checkLen(f.eid, 8, 'eddystone-eid: eid');
      const out = new Uint8Array(10);
      out[0] = EDDYSTONE_FRAME.EID;
      out[1] = f.txPower & 0xff;
      out.set(f.eid, 2);
      return out;
    }
  }
}

function intIn(v: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new BeepkitError('E_RANGE', `eddystone-tlm: ${what} out of range: ${v}`);
  return v;
}

/** Decodes Eddystone service data (after the UUID); returns null for frame types this codec does not know. */
export function decodeEddystone(data: Uint8Array): Eddystone | null {
  const r = new Reader(data, 'eddystone');
  const type = r.u8('frame type');
  switch (type) {
    case EDDYSTONE_FRAME.UID: {
      const txPower = i8(r.u8('txPower'));
      const namespace = r.bytes(10, 'namespace');
      const instance = r.bytes(6, 'instance');
      // The two RFU bytes are optional on air (many beacons omit them); when present they must be zero.
      if (r.remaining > 0) {
        const rfu = r.bytes(2, 'RFU');
        if (rfu[0] !== 0 || rfu[1] !== 0) throw new BeepkitError('E_FORMAT', 'eddystone-uid: RFU bytes must be zero');
      }
      r.end();
      return { kind: 'eddystone-uid', txPower, namespace, instance };
    }
    case EDDYSTONE_FRAME.URL: {
      const txPower = i8(r.u8('txPower'));
      const url = decodeEddystoneUrl(r.bytes(r.remaining));
      return { kind: 'eddystone-url', txPower, url };
    }
    case EDDYSTONE_FRAME.TLM: {
      const version = r.u8('version');
      if (version !== 0) throw new BeepkitError('E_VERSION', `eddystone-tlm: version ${version} (only unencrypted v0 is supported)`);
      const batteryMv = r.u16('VBATT');
      const rawTemp = r.u16('TEMP');
      const advCount = r.u32('ADV_CNT');
      const secCount = r.u32('SEC_CNT');
      r.end();
      const temperatureC = rawTemp === 0x8000 ? null : ((rawTemp << 16) >> 16) / 256;
      return { kind: 'eddystone-tlm', batteryMv, temperatureC, advCount, secCount, seconds: secCount / 10 };
    }
    case EDDYSTONE_FRAME.EID: {
      const txPower = i8(r.u8('txPower'));
      const eid = r.bytes(8, 'eid');
      r.end();
      return { kind: 'eddystone-eid', txPower, eid };
    }
    default:
      return null;
  }
}
