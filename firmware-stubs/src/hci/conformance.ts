/**
 * Exposure Notification conformance mode of the virtual controller: whenever
 * an advert carrying the EN service (UUID 0xFD6F) goes on air (advertising
 * enabled, or its data, address or parameters changed while enabled), it is
 * checked against the EN Bluetooth Specification v1.2 as a conformance tester
 * would, and each breach is flagged (event, counter, log line):
 *
 * | rule | what the advert must be |
 * | --- | --- |
 * | `pdu-type` | ADV_NONCONN_IND (0x03) |
 * | `address-type` | own address type random (0x01) |
 * | `address-kind` | a non-resolvable private address (top two bits 00) |
 * | `interval` | advertising interval within 200–270 ms (0x0140–0x01B0) |
 * | `payload-length` | FD6F service data of exactly 20 bytes (RPI 16 ‖ AEM 4) |
 * | `lockstep` | address and RPI change together: never a new RPI from the old address, nor the old RPI from a new address |
 */
import type { AdvParams } from './commands.ts';

export type EnRule = 'pdu-type' | 'address-type' | 'address-kind' | 'interval' | 'payload-length' | 'lockstep';

export interface EnViolation {
  rule: EnRule;
  message: string;
}

export interface OnAir {
  params: AdvParams;
  /** The advertising address, little-endian (HCI order). */
  address: Buffer;
  advData: Buffer;
}

const EN_UUID = 0xfd6f;
const MIN_UNITS = 0x0140; // 200 ms
const MAX_UNITS = 0x01b0; // 270 ms

/** The FD6F service data payload (after the UUID), or undefined when the advert is not an EN advert. */
export function enServiceData(ad: Buffer): Buffer | undefined {
  let list = false;
  let data: Buffer | undefined;
  for (let i = 0; i < ad.length;) {
    const len = ad[i];
    if (len === 0 || i + 1 + len > ad.length) break;
    const type = ad[i + 1];
    const body = ad.subarray(i + 2, i + 1 + len);
    if ((type === 0x02 || type === 0x03) && body.length >= 2) {
      for (let j = 0; j + 1 < body.length; j += 2) if (body.readUInt16LE(j) === EN_UUID) list = true;
    }
    if (type === 0x16 && body.length >= 2 && body.readUInt16LE(0) === EN_UUID) data = body.subarray(2);
    i += 1 + len;
  }
  if (data) return data;
  return list ? Buffer.alloc(0) : undefined;
}

export class EnConformance {
  readonly violations: EnViolation[] = [];
  readonly counts: Record<EnRule, number> = { 'pdu-type': 0, 'address-type': 0, 'address-kind': 0, interval: 0, 'payload-length': 0, lockstep: 0 };
  /** EN adverts checked. */
  checked = 0;
  private last?: { address: string; rpi: string };

  constructor(private readonly flag: (v: EnViolation) => void) {}

  /** Checks what goes on air now; returns the breaches found (already flagged). */
  check(a: OnAir): EnViolation[] {
    const sd = enServiceData(a.advData);
    if (sd === undefined) return [];
    this.checked++;
    const found: EnViolation[] = [];
    const add = (rule: EnRule, message: string) => found.push({ rule, message });
    const p = a.params;
    if (p.type !== 0x03) add('pdu-type', `PDU type 0x${p.type.toString(16).padStart(2, '0')}, not ADV_NONCONN_IND (0x03)`);
    if (p.ownAddressType !== 0x01) add('address-type', `own address type ${p.ownAddressType}, not random (1)`);
    else if (a.address[5] >> 6 !== 0)
      add('address-kind', `address top bits ${(a.address[5] >> 6).toString(2).padStart(2, '0')}, not a non-resolvable private address (00)`);
    if (p.intervalMin < MIN_UNITS || p.intervalMax > MAX_UNITS || p.intervalMin > p.intervalMax) {
      add('interval', `interval ${p.intervalMin * 0.625}–${p.intervalMax * 0.625} ms, not within 200–270 ms`);
    }
    if (sd.length !== 20) add('payload-length', `FD6F service data of ${sd.length} bytes, not 20 (RPI ‖ AEM)`);
    const address = a.address.toString('hex');
    const rpi = sd.subarray(0, 16).toString('hex');
    const last = this.last;
    if (last && last.address === address && last.rpi !== rpi) add('lockstep', 'a new RPI from the previous address');
    if (last && last.address !== address && last.rpi === rpi) add('lockstep', 'the previous RPI from a new address');
    this.last = { address, rpi };
    for (const v of found) {
      this.counts[v.rule]++;
      this.violations.push(v);
      if (this.violations.length > 100) this.violations.shift();
      this.flag(v);
    }
    return found;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}
