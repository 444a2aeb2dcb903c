/**
 * Resolvable private addresses (Bluetooth Core Vol 6 Part B 1.3.2.2, Vol 3
 * Part H 2.2.2): a paired wearable advertises from `prand || ah(IRK, prand)`,
 * where prand is 24 bits with its two top bits 0b01 and ah(k, r) the low 24
 * bits of AES-128(k, 0^104 || r). Nobody without the IRK can link two of its
 * addresses; its carer, who holds the IRK, resolves every one. The IRK is
 * derived from the pairing key both sides hold after pairing, so it changes
 * with every pairing and is gone with the pairing. prand is derived from the
 * interval's RPI, so the address rotates in lockstep with the EN identifiers.
 * All values MSB first, as the spec's sample data (and formatBleAddress) are.
 */
import { createCipheriv } from 'node:crypto';
import { BeepkitError } from '../errors.ts';
import { hkdf, sha256 } from '../crypto/hash.ts';

export const IRK_LEN = 16;

/** The identity resolving key of a carer pairing: HKDF-SHA256(pairingKey, info 'beepkit/v1/carer-IRK'). */
export function carerIrk(pairingKey: Uint8Array): Uint8Array {
  if (pairingKey.length !== 32) throw new BeepkitError('E_RANGE', 'pairing key must be 32 bytes');
  return hkdf(pairingKey, undefined, 'beepkit/v1/carer-IRK', IRK_LEN);
}

/** The random address hash function ah(k, r): 3 bytes. */
export function ah(irk: Uint8Array, prand: Uint8Array): Uint8Array {
  if (irk.length !== IRK_LEN) throw new BeepkitError('E_RANGE', 'IRK must be 16 bytes');
  if (prand.length !== 3) throw new BeepkitError('E_RANGE', 'prand must be 3 bytes');
  const block = new Uint8Array(16);
  block.set(prand, 13);
  const c = createCipheriv('aes-128-ecb', irk, null);
  c.setAutoPadding(false);
  const out = c.update(block);
  return new Uint8Array(out.subarray(13, 16));
}

/** A resolvable private address from `irk` and a 3-byte prand (its top two bits are forced to 0b01). */
export function makeRpa(irk: Uint8Array, prand: Uint8Array): Uint8Array {
  const p = Uint8Array.from(prand);
  if (p.length !== 3) throw new BeepkitError('E_RANGE', 'prand must be 3 bytes');
  p[0] = (p[0]! & 0x3f) | 0x40;
  const a = new Uint8Array(6);
  a.set(p, 0);
  a.set(ah(irk, p), 3);
  return a;
}

/** The wearable's address for the interval of `rpi`: an RPA whose prand is taken from SHA-256(rpi), "aa:bb:…" lowercase. */
export function rpaForRpi(irk: Uint8Array, rpi: Uint8Array): string {
  return [...makeRpa(irk, sha256(rpi).subarray(0, 3))].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Whether `address` ("AA:BB:…", either case) is a resolvable private address of `irk`. */
export function resolvesTo(irk: Uint8Array, address: string): boolean {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(address);
  if (!m) return false;
  const a = m.slice(1).map((h) => parseInt(h, 16));
  if ((a[0]! & 0xc0) !== 0x40) return false;
  const h = ah(irk, Uint8Array.from(a.slice(0, 3)));
  return h[0] === a[3] && h[1] === a[4] && h[2] === a[5];
}
