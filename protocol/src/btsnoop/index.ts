/**
 * btsnoop captures (the format of Wireshark's and BlueZ btmon's `-r`), datalink
 * 2001, "Linux monitor": one file holds the HCI traffic of several controllers,
 * each an index (an agent's scanner and advertiser, a sim's every controller).
 * Pure encoders: a writer appends `header()` once, then `newIndex()` per
 * controller and `packet()` per H4 packet. Big-endian throughout.
 *
 *   header  "btsnoop\0" | u32 version 1 | u32 datalink 2001
 *   record  u32 original length | u32 included length | u32 flags (index << 16 | opcode)
 *           | u32 drops 0 | i64 µs since 0000-01-01 | data
 *   opcode  0 new index (type, bus, bdaddr LE, name[8]), 2 command, 3 event, 4 ACL to the
 *           controller, 5 ACL from it; the data is the packet without its H4 indicator byte.
 */
import { BeepkitError } from '../errors.ts';

/** Microseconds from 0000-01-01 to the Unix epoch, as btsnoop counts. */
const EPOCH_DELTA_US = 0x00dcddb30f2f8000n;
export const BTSNOOP_DATALINK_MONITOR = 2001;

export function header(): Uint8Array {
  const b = new Uint8Array(16);
  b.set(new TextEncoder().encode('btsnoop\0'));
  const v = new DataView(b.buffer);
  v.setUint32(8, 1);
  v.setUint32(12, BTSNOOP_DATALINK_MONITOR);
  return b;
}

function record(index: number, opcode: number, data: Uint8Array, nowMs: number): Uint8Array {
  const b = new Uint8Array(24 + data.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, data.length);
  v.setUint32(4, data.length);
  v.setUint32(8, ((index & 0xffff) << 16) | opcode);
  v.setUint32(12, 0);
  v.setBigInt64(16, BigInt(Math.round(nowMs * 1000)) + EPOCH_DELTA_US);
  b.set(data, 24);
  return b;
}

/** A New Index record: controller `index` on a UART bus, its BD_ADDR ('aa:bb:…') and a name of ≤ 8 bytes. */
export function newIndex(index: number, address: string, name: string, nowMs: number): Uint8Array {
  const d = new Uint8Array(16);
  d[0] = 0x00; // primary controller
  d[1] = 0x03; // UART
  const a = address.split(':').map((x) => parseInt(x, 16));
  if (a.length !== 6 || a.some((x) => !(x >= 0 && x <= 255))) throw new BeepkitError('E_FORMAT', `btsnoop: bad address ${address}`);
  d.set(a.reverse(), 2);
  d.set(new TextEncoder().encode(name).subarray(0, 8), 8);
  return record(index, 0, d, nowMs);
}

/**
 * One H4 packet (with its indicator byte: 01 command, 02 ACL, 04 event) of controller `index`; `toController`:
 * host to controller. Returns undefined for an indicator the monitor format has no opcode for.
 */
export function packet(index: number, h4: Uint8Array, toController: boolean, nowMs: number): Uint8Array | undefined {
  const kind = h4[0];
  const opcode = kind === 0x01 ? 2 : kind === 0x04 ? 3 : kind === 0x02 ? (toController ? 4 : 5) : undefined;
  if (opcode === undefined || h4.length < 2) return undefined;
  return record(index, opcode, h4.subarray(1), nowMs);
}
