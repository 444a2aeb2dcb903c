/**
 * Exposure Notification rolling identifiers, exactly per the EN cryptography
 * specification v1.2:
 *   RPIK = HKDF(TEK, salt none, "EN-RPIK", 16)
 *   RPI_j = AES-128-ECB(RPIK, "EN-RPI" || 0x000000000000 || ENIN_j as uint32 LE)
 *   AEMK = HKDF(TEK, salt none, "EN-AEMK", 16)
 *   AEM_j = AES-128-CTR(AEMK, IV = RPI_j, metadata)   (4 bytes)
 * plus a beepkit extension: a non-resolvable private BLE address per interval
 * (see `bleAddress`), so the address and the RPI rotate together.
 * Batched derivation encrypts all of a key's intervals in ONE AES-ECB call.
 */
import { createCipheriv } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { hkdf } from '../crypto/hash.ts';
import { rpikInto } from './rpik.ts';

export const TEK_LEN = 16;
export const RPI_LEN = 16;
export const AEM_LEN = 4;
export const BLE_ADDR_LEN = 6;
/** Intervals per TEK (one day of 10-minute intervals). */
export const EKROLLING_PERIOD = 144;
/** Default metadata: version 0b01000000 (major 1), TX power 0 dBm, reserved 0. */
export const DEFAULT_METADATA = Uint8Array.of(0x40, 0x00, 0x00, 0x00);

const RPI_PAD = Uint8Array.of(0x45, 0x4e, 0x2d, 0x52, 0x50, 0x49, 0, 0, 0, 0, 0, 0); // "EN-RPI" + 6 zeros

/** ENIN: 10-minute interval number of a Unix time in seconds. */
export function enIntervalNumber(unixSeconds: number): number {
  return Math.floor(unixSeconds / 600);
}

function checkTek(tek: Uint8Array): void {
  if (tek.length !== TEK_LEN) throw new BeepkitError('E_KEY', `TEK must be 16 bytes, got ${tek.length}`);
}

function checkEnin(enin: number): void {
  if (!Number.isInteger(enin) || enin < 0 || enin > 0xffffffff) throw new BeepkitError('E_RANGE', `ENIN out of range: ${enin}`);
}

export function deriveRpik(tek: Uint8Array): Uint8Array {
  checkTek(tek);
  return hkdf(tek, undefined, 'EN-RPIK', 16);
}

export function deriveAemk(tek: Uint8Array): Uint8Array {
  checkTek(tek);
  return hkdf(tek, undefined, 'EN-AEMK', 16);
}

/** Key for the per-interval BLE address (beepkit extension, not part of EN). */
export function deriveAddrKey(tek: Uint8Array): Uint8Array {
  checkTek(tek);
  return hkdf(tek, undefined, 'beepkit/v1/EN-ADDR', 16);
}

function ecb(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  const out = c.update(blocks);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Writes the padded data blocks for `count` intervals from `enin` into `dst` at `off`. */
function fillPadded(dst: Uint8Array, off: number, enin: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const o = off + i * 16;
    dst.set(RPI_PAD, o);
    const n = (enin + i) >>> 0;
    dst[o + 12] = n & 0xff;
    dst[o + 13] = (n >>> 8) & 0xff;
    dst[o + 14] = (n >>> 16) & 0xff;
    dst[o + 15] = n >>> 24;
  }
}

/** `count` consecutive RPIs from `enin`, concatenated (count × 16 bytes), one AES call. */
export function deriveRpis(tek: Uint8Array, enin: number, count = EKROLLING_PERIOD): Uint8Array {
  checkEnin(enin);
  if (!Number.isInteger(count) || count < 1 || enin + count - 1 > 0xffffffff) throw new BeepkitError('E_RANGE', `bad count ${count}`);
  const pad = new Uint8Array(count * 16);
  fillPadded(pad, 0, enin, count);
  return ecb(deriveRpik(tek), pad);
}

export function deriveRpi(tek: Uint8Array, enin: number): Uint8Array {
  return deriveRpis(tek, enin, 1);
}

/**
 * Fast path for matching a day's published keys: RPIs of every key for
 * `period` intervals from its rolling start, written into `out`
 * (teks.length × period × 16 bytes, key-major). Returns `out`.
 */
export function deriveRpisForKeys(teks: Uint8Array[], rollingStart: number[], out?: Uint8Array, period = EKROLLING_PERIOD): Uint8Array {
  if (teks.length !== rollingStart.length) throw new BeepkitError('E_RANGE', 'teks and rollingStart differ in length');
  const per = period * 16;
  const dst = out ?? new Uint8Array(teks.length * per);
  if (dst.length < teks.length * per) throw new BeepkitError('E_RANGE', `out needs ${teks.length * per} bytes`);
  const pad = new Uint8Array(per);
  const rpik = new Uint8Array(16);
  let lastStart = -1;
  for (let k = 0; k < teks.length; k++) {
    checkEnin(rollingStart[k]);
    if (rollingStart[k] !== lastStart) {
      fillPadded(pad, 0, rollingStart[k], period);
      lastStart = rollingStart[k];
    }
    if (teks[k].length !== TEK_LEN) throw new BeepkitError('E_KEY', `TEK must be ${TEK_LEN} bytes, got ${teks[k].length}`);
    rpikInto(teks[k], rpik);
    const c = createCipheriv('aes-128-ecb', rpik, null);
    c.setAutoPadding(false);
    const n = c.update(pad);
    dst.set(n, k * per);
  }
  return dst;
}

/**
 * Associated encrypted metadata for one or more RPIs (concatenated): AES-128-CTR
 * with IV = RPI uses only the first keystream block, AES(AEMK, RPI), so all
 * AEMs of a day come from one AES-ECB call over the RPIs.
 */
export function deriveAems(tek: Uint8Array, rpis: Uint8Array, metadata: Uint8Array = DEFAULT_METADATA): Uint8Array {
  if (metadata.length !== AEM_LEN) throw new BeepkitError('E_RANGE', `metadata must be 4 bytes, got ${metadata.length}`);
  if (rpis.length % 16 !== 0) throw new BeepkitError('E_RANGE', 'rpis must be a multiple of 16 bytes');
  const ks = ecb(deriveAemk(tek), rpis);
  const n = rpis.length / 16;
  const out = new Uint8Array(n * AEM_LEN);
  for (let i = 0; i < n; i++) for (let b = 0; b < AEM_LEN; b++) out[i * AEM_LEN + b] = ks[i * 16 + b] ^ metadata[b];
  return out;
}

/** Decrypts an AEM back to metadata (CTR is its own inverse). */
export function decryptAem(tek: Uint8Array, rpi: Uint8Array, aem: Uint8Array): Uint8Array {
  if (rpi.length !== RPI_LEN) throw new BeepkitError('E_RANGE', 'rpi must be 16 bytes');
  return deriveAems(tek, rpi, aem);
}

/** Metadata bytes for a version byte and a TX power in dBm (int8). */
export function encodeMetadata(txPowerDbm: number, version = 0x40): Uint8Array {
  if (!Number.isInteger(txPowerDbm) || txPowerDbm < -128 || txPowerDbm > 127) throw new BeepkitError('E_RANGE', `tx power out of range: ${txPowerDbm}`);
  return Uint8Array.of(version & 0xff, txPowerDbm & 0xff, 0, 0);
}

/**
 * Non-resolvable private BLE address per interval, most significant byte first
 * (reverse it for the little-endian HCI wire order):
 *   block = AES-128-ECB(ADDRK, RPI_j), ADDRK = HKDF(TEK, none, "beepkit/v1/EN-ADDR", 16)
 *   addr  = block[0..6] with the two top bits of addr[0] cleared (0b00 = non-resolvable)
 * If the 46 random bits are all zero or all one (forbidden by Core spec Vol 6
 * B 1.3.2.2) the block is encrypted again until they are not (probability 2^-45).
 * One address per RPI, so they rotate in lockstep, and an observer who cannot
 * link RPIs cannot link addresses either. Returns count × 6 bytes.
 */
export function bleAddresses(tek: Uint8Array, rpis: Uint8Array): Uint8Array {
  if (rpis.length % 16 !== 0) throw new BeepkitError('E_RANGE', 'rpis must be a multiple of 16 bytes');
  const key = deriveAddrKey(tek);
  const blocks = ecb(key, rpis);
  const n = rpis.length / 16;
  const out = new Uint8Array(n * BLE_ADDR_LEN);
  for (let i = 0; i < n; i++) {
    let b = blocks.subarray(i * 16, i * 16 + 16);
    for (;;) {
      const a = b.subarray(0, 6);
      const top = a[0] & 0x3f;
      const rest = a.subarray(1);
      const zero = top === 0 && rest.every((x) => x === 0);
      const ones = top === 0x3f && rest.every((x) => x === 0xff);
      if (!zero && !ones) break;
      b = ecb(key, b);
    }
    out.set(b.subarray(0, 6), i * BLE_ADDR_LEN);
    out[i * BLE_ADDR_LEN] &= 0x3f;
  }
  return out;
}

export function bleAddress(tek: Uint8Array, rpi: Uint8Array): Uint8Array {
  if (rpi.length !== RPI_LEN) throw new BeepkitError('E_RANGE', 'rpi must be 16 bytes');
  return bleAddresses(tek, rpi);
}

/** "AA:BB:CC:DD:EE:FF" for a 6-byte address (MSB first). */
export function formatBleAddress(addr: Uint8Array): string {
  return [...addr]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':')
    .toUpperCase();
}

export interface IntervalIds {
  enin: number;
  rpi: Uint8Array;
  aem: Uint8Array;
  address: Uint8Array;
}

/** Everything an advertiser needs for `count` intervals from `enin`. */
export function intervalIds(tek: Uint8Array, enin: number, count = 1, metadata: Uint8Array = DEFAULT_METADATA): IntervalIds[] {
  const rpis = deriveRpis(tek, enin, count);
  const aems = deriveAems(tek, rpis, metadata);
  const addrs = bleAddresses(tek, rpis);
  const out: IntervalIds[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ enin: enin + i, rpi: rpis.slice(i * 16, i * 16 + 16), aem: aems.slice(i * 4, i * 4 + 4), address: addrs.slice(i * 6, i * 6 + 6) });
  }
  return out;
}

export { IRK_LEN, ah, carerIrk, makeRpa, resolvesTo, rpaForRpi } from './rpa.ts';
